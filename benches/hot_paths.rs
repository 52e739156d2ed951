//! Criterion benchmarks of the harness's own hot paths: prompt rendering, answer extraction and
//! aggregation. They need no model and no dataset.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;
use yardstick::metrics::{percentile, Estimate};
use yardstick::tasks::{
    ExtractionChain, PromptRenderer, PromptSpec, PromptStyle, Select, StepSpec,
};

fn rendering(c: &mut Criterion) {
    let renderer = PromptRenderer::compile(&PromptSpec {
        style: PromptStyle::Completion,
        system: None,
        assistant_prefix: None,
        template: "{% for shot in fewshot %}Question: {{ shot.question }}\nAnswer: {{ shot.answer }}\n\n{% endfor %}Question: {{ doc.question }}\nAnswer:".into(),
    })
    .unwrap();
    let shot = json!({"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?", "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"});
    let fewshot = vec![shot.clone(); 8];
    c.bench_function("render gsm8k 8-shot prompt", |b| {
        b.iter(|| {
            renderer
                .render(black_box(&shot), black_box(&fewshot), 0)
                .unwrap()
        })
    });
}

fn extraction(c: &mut Criterion) {
    let strict = ExtractionChain::compile(&[
        StepSpec::Regex {
            pattern: r"#### (\-?[0-9\.\,]+)".into(),
            group: None,
            select: Select::First,
        },
        StepSpec::NormalizeNumber,
    ])
    .unwrap();
    let flexible = ExtractionChain::compile(&[
        StepSpec::Regex {
            pattern: r"(-?[$0-9.,]{2,})|(-?[0-9]+)".into(),
            group: None,
            select: Select::Last,
        },
        StepSpec::NormalizeNumber,
    ])
    .unwrap();
    let output =
        "Janet's ducks lay 16 eggs per day. She eats 3 for breakfast and bakes muffins with 4. \
                  So she sells 16 - 3 - 4 = 9 eggs. At $2 each she makes 9 * 2 = $18.\n#### 18";
    c.bench_function("extract strict + flexible", |b| {
        b.iter(|| {
            (
                strict.apply(black_box(output)),
                flexible.apply(black_box(output)),
            )
        })
    });
}

fn aggregation(c: &mut Criterion) {
    let outcomes: Vec<f64> = (0..1319).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
    let latencies: Vec<f64> = (0..1319).map(|i| 0.5 + (i % 97) as f64 / 10.0).collect();
    c.bench_function("aggregate 1319 samples", |b| {
        b.iter(|| {
            (
                Estimate::proportion(black_box(&outcomes)),
                percentile(black_box(&latencies), 90.0),
            )
        })
    });
}

criterion_group!(benches, rendering, extraction, aggregation);
criterion_main!(benches);
