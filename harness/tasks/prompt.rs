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
    /// Chat turns passed through the model's own chat template.
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
}

impl PromptRenderer {
    /// Compiles the template of `spec`; syntax errors carry the template line.
    pub fn compile(spec: &PromptSpec) -> Result<Self> {
        Ok(Self {
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
