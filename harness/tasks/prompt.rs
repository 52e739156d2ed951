//! Prompts: what a task renders for one item, and the minijinja rendering that produces it.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::spec::{PromptSpec, PromptStyle};
use super::template::Template;

/// The input of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "lowercase")]
pub enum Prompt {
    /// Raw text the model continues.
    Completion {
        /// The text.
        text: String,
    },
    /// Chat turns passed through the model's own chat template. When the last turn is the
    /// assistant's, the model continues that turn (it is left open: no end-of-turn token and no
    /// new generation prompt), as Hugging Face's `continue_final_message` does.
    Chat {
        /// The turns, in order.
        messages: Vec<ChatMessage>,
    },
}

/// One chat turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text of the turn.
    pub content: String,
}

impl Prompt {
    /// The prompt as one readable text (chat turns labelled by role).
    pub fn display_text(&self) -> String {
        match self {
            Prompt::Completion { text } => text.clone(),
            Prompt::Chat { messages } => messages
                .iter()
                .map(|m| format!("<{}>\n{}", m.role, m.content))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// A compiled prompt template.
#[derive(Debug)]
pub struct PromptRenderer {
    template: Template,
    style: PromptStyle,
    system: Option<String>,
    assistant_prefix: Option<String>,
}

impl PromptRenderer {
    /// Compiles the template of `spec`; syntax errors carry the template line.
    pub fn compile(spec: &PromptSpec) -> Result<Self> {
        if spec.assistant_prefix.is_some() && spec.style != PromptStyle::Chat {
            anyhow::bail!(
                "prompt.assistant_prefix needs style = \"chat\" (a completion prompt is continued \
                 as it is: write the prefix at the end of the template instead)"
            );
        }
        Ok(Self {
            assistant_prefix: spec.assistant_prefix.clone(),
            template: Template::compile(&spec.template, "prompt.template")?,
            style: spec.style,
            system: spec.system.clone(),
        })
    }

    /// Renders the prompt for `doc` with `fewshot` exemplars.
    pub fn render(
        &self,
        doc: &serde_json::Value,
        fewshot: &[serde_json::Value],
        index: usize,
    ) -> Result<Prompt> {
        let text = self
            .template
            .render(minijinja::context! { doc, fewshot, index })
            .context("prompt.template failed to render")?;
        Ok(match self.style {
            PromptStyle::Completion => Prompt::Completion { text },
            PromptStyle::Chat => {
                let mut messages = Vec::new();
                if let Some(system) = &self.system {
                    messages.push(ChatMessage {
                        role: "system".into(),
                        content: system.clone(),
                    });
                }
                messages.push(ChatMessage {
                    role: "user".into(),
                    content: text,
                });
                if let Some(prefix) = &self.assistant_prefix {
                    messages.push(ChatMessage {
                        role: "assistant".into(),
                        content: prefix.clone(),
                    });
                }
                Prompt::Chat { messages }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(style: PromptStyle, template: &str) -> PromptSpec {
        PromptSpec {
            style,
            system: None,
            assistant_prefix: None,
            template: template.into(),
        }
    }

    #[test]
    fn renders_fewshot_then_question() {
        let renderer = PromptRenderer::compile(&spec(
            PromptStyle::Completion,
            "{% for s in fewshot %}Q: {{ s.q }}\nA: {{ s.a }}\n\n{% endfor %}Q: {{ doc.q }}\nA:",
        ))
        .unwrap();
        let prompt = renderer
            .render(&json!({"q": "2+2?"}), &[json!({"q": "1+1?", "a": "2"})], 0)
            .unwrap();
        assert_eq!(
            prompt,
            Prompt::Completion {
                text: "Q: 1+1?\nA: 2\n\nQ: 2+2?\nA:".into()
            }
        );
    }

    #[test]
    fn chat_style_wraps_a_user_turn() {
        let renderer =
            PromptRenderer::compile(&spec(PromptStyle::Chat, "Solve: {{ doc.q }}")).unwrap();
        let Prompt::Chat { messages } = renderer.render(&json!({"q": "x"}), &[], 0).unwrap() else {
            panic!("chat expected")
        };
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].content, "Solve: x");
    }

    #[test]
    fn assistant_prefix_opens_the_assistant_turn_after_the_user_turn() {
        let mut with_prefix = spec(PromptStyle::Chat, "Solve: {{ doc.q }}");
        with_prefix.assistant_prefix = Some("Here:\n```python\n".into());
        let renderer = PromptRenderer::compile(&with_prefix).unwrap();
        let Prompt::Chat { messages } = renderer.render(&json!({"q": "x"}), &[], 0).unwrap() else {
            panic!("chat expected")
        };
        let roles: Vec<&str> = messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["user", "assistant"]);
        assert_eq!(messages[1].content, "Here:\n```python\n");
        let mut on_completion = spec(PromptStyle::Completion, "x");
        on_completion.assistant_prefix = Some("y".into());
        let err = PromptRenderer::compile(&on_completion)
            .unwrap_err()
            .to_string();
        assert!(err.contains("assistant_prefix needs style"), "{err}");
    }

    #[test]
    fn missing_field_is_an_error_not_blank() {
        let renderer =
            PromptRenderer::compile(&spec(PromptStyle::Completion, "{{ doc.nope }}")).unwrap();
        assert!(renderer.render(&json!({"q": 1}), &[], 0).is_err());
    }

    #[test]
    fn syntax_error_names_the_line() {
        let err = format!(
            "{:#}",
            PromptRenderer::compile(&spec(PromptStyle::Completion, "ok\n{% for %}")).unwrap_err()
        );
        assert!(err.contains("line 2"), "{err}");
    }
}
