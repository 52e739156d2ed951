//! The MATH answer handling of lm-evaluation-harness 0.4.13's `minerva_math` tasks (utils.py),
//! ported function by function: the last `\boxed{…}` of a solution, and Minerva's
//! `normalize_final_answer` (Lewkowycz et al. 2022, appendix D, with lm-eval's later fixes).
//! Python's `re` semantics are kept: `.` stops at a newline, `\b`, `\w` and `\d` are Unicode,
//! look-around runs on `fancy-regex`. Checked against lm-eval's own functions in
//! `tests/integration/math500.rs`.

use std::sync::OnceLock;

use fancy_regex::Regex as FancyRegex;
use regex::Regex;

/// lm-eval's `last_boxed_only_string`: the last `\boxed{…}` (or `\fbox{…}`) with balanced
/// braces, or `\boxed ` up to the next `$`; `None` when there is none or it never closes.
pub fn last_boxed_only_string(text: &str) -> Option<String> {
    let idx = text.rfind("\\boxed");
    if text.contains("\\boxed ") {
        let after = text.rsplit("\\boxed ").next().unwrap_or("");
        return Some(format!("\\boxed {}", after.split('$').next().unwrap_or("")));
    }
    let idx = match idx {
        Some(i) => i,
        None => text.rfind("\\fbox")?,
    };
    let mut open = 0i64;
    for (offset, byte) in text.as_bytes()[idx..].iter().enumerate() {
        match byte {
            b'{' => open += 1,
            b'}' => {
                open -= 1;
                if open == 0 {
                    return Some(text[idx..=idx + offset].to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// lm-eval's `remove_boxed`: the content of `\boxed{…}` or what follows `\boxed `; `None` where
/// lm-eval's assertion would fail (an `\fbox`, or no closing brace).
pub fn remove_boxed(boxed: &str) -> Option<String> {
    if boxed.contains("\\boxed ") {
        return boxed.strip_prefix("\\boxed ").map(str::to_string);
    }
    boxed
        .strip_prefix("\\boxed{")?
        .strip_suffix('}')
        .map(str::to_string)
}

const SUBSTITUTIONS: [(&str, &str); 10] = [
    ("an ", ""),
    ("a ", ""),
    (".$", "$"),
    ("\\$", ""),
    ("\\ ", ""),
    (" ", ""),
    ("mbox", "text"),
    (",\\text{and}", ","),
    ("\\text{and}", ","),
    ("\\text{m}", "\\text{}"),
];

const REMOVED_EXPRESSIONS: [&str; 42] = [
    "square",
    "ways",
    "integers",
    "dollars",
    "mph",
    "inches",
    "ft",
    "hours",
    "km",
    "units",
    "\\ldots",
    "sue",
    "points",
    "feet",
    "minutes",
    "digits",
    "cents",
    "degrees",
    "cm",
    "gm",
    "pounds",
    "meters",
    "meals",
    "edges",
    "students",
    "childrentickets",
    "multiples",
    "\\text{s}",
    "\\text{.}",
    "\\text{\ns}",
    "\\text{}^2",
    "\\text{}^3",
    "\\text{\n}",
    "\\text{}",
    "\\mathrm{th}",
    "^\\circ",
    "^{\\circ}",
    "\\;",
    ",\\!",
    "{,}",
    "\"",
    "\\dots",
];

/// Python's `str.isalpha()` on an expression (ASCII here): non-empty and all letters.
fn is_alpha(text: &str) -> bool {
    !text.is_empty() && text.chars().all(char::is_alphabetic)
}

struct Patterns {
    unit_words: Vec<FancyRegex>,
    command: Regex,
    math: Regex,
    text: Regex,
    textbf: Regex,
    overline: Regex,
    boxed: Regex,
    frac: Regex,
    indexed_sqrt: Regex,
    sqrt: FancyRegex,
    thousands: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let plain = |p: &str| Regex::new(p).expect("static pattern");
        Patterns {
            unit_words: REMOVED_EXPRESSIONS
                .iter()
                .filter(|e| is_alpha(e))
                .map(|e| FancyRegex::new(&format!(r"(?<!\\)\b{e}\b")).expect("static pattern"))
                .collect(),
            command: plain(r"\\[a-zA-Z]+"),
            math: plain(r"(.*?)(\$)(.*?)(\$)(.*)"),
            text: plain(r"(\\text\{)(.*?)(\})"),
            textbf: plain(r"(\\textbf\{)(.*?)(\})"),
            overline: plain(r"(\\overline\{)(.*?)(\})"),
            boxed: plain(r"(\\boxed\{)(.*)(\})"),
            frac: plain(r"(frac)([^{])(.)"),
            // Python's `\w` on text: letters, numbers (every N category) and `_`.
            indexed_sqrt: plain(r"(sqrt)(\[[^\]]*\])([\p{L}\p{N}_])"),
            sqrt: FancyRegex::new(r"(sqrt)(?!\[)([^{])").expect("static pattern"),
            thousands: plain(r"^-?\d{1,3}(,\d{3})+$"),
        }
    })
}

/// Python's `str.replace` on the parts of `text` outside LaTeX command names (`\left` keeps its
/// "ft"): lm-eval splits on `(\\[a-zA-Z]+)` and replaces in the even segments only.
fn replace_outside_commands(text: &str, from: &str, command: &Regex) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in command.find_iter(text) {
        out.push_str(&text[last..found.start()].replace(from, ""));
        out.push_str(found.as_str());
        last = found.end();
    }
    out.push_str(&text[last..].replace(from, ""));
    out
}

/// lm-eval's `normalize_final_answer`.
pub fn normalize_final_answer(answer: &str) -> String {
    let p = patterns();
    let mut answer = answer.rsplit('=').next().unwrap_or("").to_string();
    for word in &p.unit_words {
        answer = word.replace_all(&answer, "").into_owned();
    }
    for (before, after) in SUBSTITUTIONS {
        answer = answer.replace(before, after);
    }
    for expression in REMOVED_EXPRESSIONS {
        answer = if is_alpha(expression) {
            replace_outside_commands(&answer, expression, &p.command)
        } else {
            answer.replace(expression, "")
        };
    }
    answer = p.math.replace_all(&answer, "$$${3}$$").into_owned();
    answer = p.text.replace_all(&answer, "${2}").into_owned();
    answer = p.textbf.replace_all(&answer, "${2}").into_owned();
    answer = p.overline.replace_all(&answer, "${2}").into_owned();
    answer = p.boxed.replace_all(&answer, "${2}").into_owned();
    answer = p.frac.replace_all(&answer, "frac{${2}}{${3}}").into_owned();
    answer = p
        .indexed_sqrt
        .replace_all(&answer, "${1}${2}{${3}}")
        .into_owned();
    answer = p.sqrt.replace_all(&answer, "sqrt{${2}}").into_owned();
    answer = answer.replace('$', "");
    if p.thousands.is_match(&answer) {
        answer = answer.replace(',', "");
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_answers_are_found_as_lm_eval_finds_them() {
        let solution =
            r"so $x = \boxed{\frac{1}{2}}$ and later \boxed{\left( 3, \frac{\pi}{2} \right)}.";
        let boxed = last_boxed_only_string(solution).unwrap();
        assert_eq!(boxed, r"\boxed{\left( 3, \frac{\pi}{2} \right)}");
        assert_eq!(
            remove_boxed(&boxed).unwrap(),
            r"\left( 3, \frac{\pi}{2} \right)"
        );
        assert_eq!(
            last_boxed_only_string(r"the \boxed 5$ end").unwrap(),
            r"\boxed 5"
        );
        assert_eq!(last_boxed_only_string(r"\boxed{open"), None);
        assert_eq!(last_boxed_only_string("none"), None);
        assert_eq!(remove_boxed(r"\fbox{2}"), None);
    }

    #[test]
    fn normalization_follows_minerva() {
        for (raw, normalized) in [
            (
                r"\left( 3, \frac{\pi}{2} \right)",
                r"\left(3,\frac{\pi}{2}\right)",
            ),
            ("10 \\text{ inches}", "10"),
            ("x = 1,000", "1000"),
            ("0,1", "0,1"),
            (r"\frac12", r"\frac{1}{2}"),
            (r"\sqrt2", r"\sqrt{2}"),
            (r"\sqrt[3]8", r"\sqrt[3]{8}"),
            (r"$5^\circ$", "5"),
            (r"\textbf{(C)}", "(C)"),
            ("an apple", "apple"),
        ] {
            assert_eq!(normalize_final_answer(raw), normalized, "{raw}");
        }
    }
}
