//! Natural order of item ids: runs of digits compare as numbers, so `HumanEval/2` comes before
//! `HumanEval/10` (string order puts `/10` and `/100` before `/2`).

use std::cmp::Ordering;

/// Compares `a` and `b` in natural order: text parts by character, digit runs by value (then by
/// length, so `07` and `7` still differ).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (number_a, rest_a) = split_digits(a);
                let (number_b, rest_b) = split_digits(b);
                let (trimmed_a, trimmed_b) = (
                    number_a.trim_start_matches('0'),
                    number_b.trim_start_matches('0'),
                );
                let order = trimmed_a
                    .len()
                    .cmp(&trimmed_b.len())
                    .then_with(|| trimmed_a.cmp(trimmed_b))
                    .then_with(|| number_a.len().cmp(&number_b.len()));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (rest_a, rest_b);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// Sorts `ids` in natural order.
pub fn sort_naturally(ids: &mut [String]) {
    ids.sort_by(|a, b| natural_cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_inside_ids_sort_by_value() {
        let mut ids: Vec<String> = [
            "HumanEval/10",
            "HumanEval/2",
            "HumanEval/100",
            "HumanEval/1",
            "gsm8k/0",
        ]
        .map(String::from)
        .to_vec();
        sort_naturally(&mut ids);
        assert_eq!(
            ids,
            [
                "HumanEval/1",
                "HumanEval/2",
                "HumanEval/10",
                "HumanEval/100",
                "gsm8k/0"
            ]
        );
        assert_eq!(natural_cmp("a7", "a07"), Ordering::Less);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        assert_eq!(natural_cmp("item-9b", "item-10a"), Ordering::Less);
        assert_eq!(natural_cmp("é2", "é10"), Ordering::Less);
    }
}
