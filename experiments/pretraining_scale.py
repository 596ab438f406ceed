"""How far does more pretraining take chapter 06's MiniBERT? Whole-word masking, a larger model, more steps.

Chapter 06 pretrains a 2-layer, 64-wide MiniBERT for minutes on 2 CPU cores, and TF-IDF over
character 1- and 2-grams beats it (0.779 and 0.841 against 0.770 and 0.833 with whole-word
masking, 0.761 and 0.828 with single characters, with 1,000 and all 13,891 training reviews).
Configurations with a time budget (``large``) stop a stage after that many seconds. This script reruns the chapter's recipe (news, then the unlabelled
review text, then fine-tuning) with one configuration per process and prints the test accuracy
of each, so the effect of the masking, the model's size and the pretraining budget can be read
off side by side:

    python experiments/pretraining_scale.py chapter chapter-wwm          # CPU, the chapter's sizes
    python experiments/pretraining_scale.py large-wwm --device cuda     # a GPU through CuPy

Masking: ``char`` selects characters (BERT's original rule); ``wwm`` selects whole words, from
the news corpus's own segmentation and, for the reviews, from forward maximum matching with the
news words as the dictionary. Results (one JSON line per configuration) go to standard output
and, with ``--out``, to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import time


import minidl
from minidl.course.demos.bert import (finetune, make_model, pretrain, segment_by_dictionary, text_windows,
                                      word_windows)
from minidl.data import load_chinese_news, load_chinese_sentiment
from minidl.data.tokenizer import CharTokenizer

SMALL = {"d_model": 64, "nhead": 4, "layers": 2, "dim_feedforward": 256, "max_length": 64, "dropout": 0.1}
LARGE = {"d_model": 128, "nhead": 4, "layers": 4, "dim_feedforward": 512, "max_length": 64, "dropout": 0.1}
CONFIGS = {  # model, masking, pretraining steps and seconds per stage, learning rates (pretraining, fine-tuning)
    "chapter": (SMALL, "char", 4000, 170, 5e-3, 1e-3),
    "chapter-wwm": (SMALL, "wwm", 4000, 170, 5e-3, 1e-3),
    "large": (LARGE, "char", 30000, 110, 2e-3, 5e-4),
    "large-wwm": (LARGE, "wwm", 30000, 110, 2e-3, 5e-4),
}
MASK_PROB, MIN_FINETUNE_STEPS = 0.4, 400


def corpora(max_length):
    """The tokenizer, (ids, words) of the news and of the review text, and the labelled reviews."""
    news_words = load_chinese_news(segmented=True).split("\n")
    news_lines = [line.replace(" ", "") for line in news_words]
    sentiment = load_chinese_sentiment()
    tokenizer = CharTokenizer.from_corpus(news_lines + sentiment["train_sentences"], min_freq=3)
    dictionary = {word for line in news_words for word in line.split() if 2 <= len(word) <= 4}
    review_words = [" ".join(segment_by_dictionary(text, dictionary)) for text in sentiment["train_sentences"]]
    stages = {"news": word_windows(tokenizer, news_words, max_length),
              "review text": word_windows(tokenizer, review_words, max_length, min_chars=4)}
    assert (stages["news"][0] == text_windows(tokenizer, news_lines, max_length)).all()
    return tokenizer, stages, sentiment


def run(name, device, seed=0):
    config, masking, steps, seconds, pretrain_lr, finetune_lr = CONFIGS[name]
    tokenizer, stages, sentiment = corpora(config["max_length"])
    train_ids, _ = tokenizer.batch_encode(sentiment["train_sentences"], config["max_length"])
    test_ids, _ = tokenizer.batch_encode(sentiment["test_sentences"], config["max_length"])
    minidl.manual_seed(seed)
    model = make_model(len(tokenizer), config).to(device)
    result = {"config": name, "device": device, "masking": masking, "model": config, "steps": {}, "loss": {}}
    started = time.perf_counter()
    for stage_number, (stage, (ids, words)) in enumerate(stages.items()):
        losses = pretrain(model, tokenizer, ids, steps, batch_size=32, lr=pretrain_lr, mask_prob=MASK_PROB,
                          seed=stage_number, max_seconds=seconds, progress=False,
                          words=words if masking == "wwm" else None)
        result["steps"][stage] = len(losses)
        result["loss"][stage] = [float(losses[:20].mean()), float(losses[-20:].mean())]
    result["pretraining_seconds"] = round(time.perf_counter() - started, 1)
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    result["accuracy"] = {}
    for size in (1000, len(train_ids)):
        model.load_state_dict(state)
        epochs = max(3, -(-MIN_FINETUNE_STEPS * 32 // size))
        accuracy, _ = finetune(model, train_ids[:size], sentiment["train_labels"][:size], test_ids,
                               sentiment["test_labels"], epochs=epochs, lr=finetune_lr, progress=False)
        result["accuracy"][size] = round(float(accuracy), 4)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("configs", nargs="+", choices=sorted(CONFIGS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", help="also write the results to this JSON file")
    args = parser.parse_args()
    results = []
    for name in args.configs:
        results.append(run(name, args.device))
        print(json.dumps(results[-1]), flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
