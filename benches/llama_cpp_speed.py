#!/usr/bin/env python3
"""Prefill and decode speed of llama.cpp (through llama-cpp-python) on one GGUF, measured the way
`yardstick perf` measures mistral.rs: a prompt of N tokens, greedy generation of G tokens (end of
sequence ignored, as llama-bench does), prefill = N / time to first token, decode = (G - 1) /
time after the first token. Prints one JSON object.

Usage: llama_cpp_speed.py MODEL.gguf THREADS PROMPT_TOKENS GENERATE_TOKENS REPETITIONS
"""

import json
import statistics
import sys
import time

from llama_cpp import Llama

WORDS = (
    "the model reads a long report about river water levels and then writes short summary for "
    "each town along its banks while engineers measure flow rain snow spring summer autumn winter "
    "bridge road farm field market price grain cattle school children teacher lesson number story"
).split()


def main():
    path, threads, prompt_tokens, generate, repetitions = sys.argv[1:6]
    threads, prompt_tokens, generate, repetitions = map(int, (threads, prompt_tokens, generate, repetitions))
    llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=4096,
                n_batch=512, verbose=False)
    text = " ".join(WORDS[(i * 7) % len(WORDS)] for i in range(prompt_tokens * 2))
    tokens = llm.tokenize(text.encode())[:prompt_tokens]
    prefill, decode = [], []
    for repetition in range(repetitions + 1):  # the first is a warm-up
        llm.reset()
        started = time.perf_counter()
        first = None
        produced = 0
        for _ in llm.generate(tokens, temp=0.0, top_k=1, reset=True):
            produced += 1
            if produced == 1:
                first = time.perf_counter()
            if produced == generate:
                break
        ended = time.perf_counter()
        if repetition > 0:
            prefill.append(len(tokens) / (first - started))
            decode.append((produced - 1) / (ended - first))
    summary = lambda v: {"mean": statistics.mean(v), "sd": statistics.stdev(v) if len(v) > 1 else 0.0}
    print(json.dumps({
        "backend": "llama.cpp (llama-cpp-python)",
        "threads": threads,
        "prompt_tokens": len(tokens),
        "generated_tokens": generate,
        "repetitions": repetitions,
        "prefill_tokens_per_second": summary(prefill),
        "decode_tokens_per_second": summary(decode),
    }))


if __name__ == "__main__":
    main()
