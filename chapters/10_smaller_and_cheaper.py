# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Smaller and cheaper
#
# *Distillation, pruning, int8 quantization and LoRA on chapter 04's CNN and chapter 06's MiniBERT: size, accuracy, latency.*
#
# With limited resources the source text's answer is a smaller model: a **distilled** student
# (DistilBERT keeps most of BERT's accuracy with half its layers), **pruning** (set most weights
# to zero) and **quantization** (store and multiply 8-bit integers instead of 32-bit floats). It
# also names efficient fine-tuning as a main trend of the field: **LoRA** trains a few thousand
# numbers instead of the whole network. We apply each one to two real tasks — chapter 04's
# image classifier and chapter 06's sentiment MiniBERT — and measure what it buys: the size of
# the saved checkpoint, the parameters trained, the test accuracy and the CPU latency for one
# input and for a batch of 64.

# %%
import copy
import json
import time

import numpy as np
from matplotlib.figure import Figure

import minidl
import minidl.quantization as Q
from minidl import nn
from minidl.compression import (apply_lora, checkpoint_size, count_parameters, distill, latency, lora_layers,
                                merge_and_unload, merge_lora, nonzero_parameters)
from minidl.course.chapter import Chapter
from minidl.course.demos import cnn
from minidl.course.demos.bert import ReadClassifier, finetune, loaders, make_model, pretrain, text_windows
from minidl.data import DataLoader, load_chinese_news, load_chinese_sentiment
from minidl.data.tokenizer import CharTokenizer
from minidl.models.distill import StudentCNN, distilbert_student
from minidl.nn.utils import prune
from minidl.optim import Adam, AdamW
from minidl.optim.lr_scheduler import CosineAnnealingLR, linear_warmup
from minidl.training import evaluate, fit

chapter = Chapter(10, "Smaller and cheaper")
minidl.manual_seed(0)

# %% [markdown]
# ## Sizes
#
# Quick mode (CI) uses chapter 04's quick task, LeNet on the 8x8 digits, and a MiniBERT trained
# for two epochs on 1,000 reviews cut to 32 characters: it shows every method working, not what
# they are worth. The full mode uses chapter 04's full task (SmallVGG on Fashion-MNIST) and
# chapter 06's full recipe (pretraining on the news and the review text, fine-tuning on all
# 13,891 training reviews) and took 46 minutes on two shared cores.

# %%
if chapter.quick:
    CNN = {"dataset": "digits", "model": "lenet", "epochs": 8, "batch_size": 32, "lr": 2e-3, "student_width": 8}
    BERT = {"news_lines": 0, "review_lines": 2000, "pretrain_steps": 40, "pretrain_seconds": 3,
            "train_size": 1000, "test_size": 300, "epochs": 2, "max_length": 32}
    ROUNDS = 3
else:
    CNN = {"dataset": "fashion", "model": "vgg", "epochs": 6, "batch_size": 128, "lr": 2e-3, "student_width": 8}
    BERT = {"news_lines": None, "review_lines": None, "pretrain_steps": 4000, "pretrain_seconds": 400,
            "train_size": None, "test_size": None, "epochs": 3, "max_length": 64}
    ROUNDS = 15
BERT_CONFIG = {"d_model": 64, "nhead": 4, "layers": 2, "dim_feedforward": 256, "max_length": BERT["max_length"],
               "dropout": 0.1}
PRUNE_AMOUNTS = (0.5, 0.8, 0.9)

# %% [markdown]
# ## What we measure
#
# * **size**: the bytes of the checkpoint `minidl.save(model.state_dict(), ...)` writes (an
#   uncompressed `.npz`: every number as it is stored), and the same file compressed with zlib
#   ("zipped"), where long runs of zeros shrink;
# * **parameters**: how many numbers the network has, how many are not zero, and how many were
#   *trained* to make that row (0 for methods applied after training);
# * **test accuracy**;
# * **latency**: the time of one forward pass (eval mode, no graph) for one input and for a batch
#   of 64. Other programs share this machine's two cores and can stall any single run, so every
#   model is timed once per round, all models in turn, over several rounds (the first one only
#   warms up), and the table shows each model's fastest round: the time it takes when nothing
#   else is in the way. Compare the timings within one table, not across machines.

# %%
ROWS = {"cnn": [], "bert": []}
TIMED = []  # (row, model, one input, a batch of 64): timed together at the end


def measure(task, name, model, accuracy, trained, one, batch, parameters=None, nonzero=None):
    """Add a row to the task's table: sizes from the checkpoint, counts and accuracy (latencies later)."""
    raw, zipped = checkpoint_size(model)
    row = {"model": name, "size_kb": raw / 1024, "zipped_kb": zipped / 1024,
           "parameters": count_parameters(model) if parameters is None else parameters,
           "nonzero": nonzero_parameters(model) if nonzero is None else nonzero, "trained": trained,
           "accuracy": float(accuracy)}
    ROWS[task].append(row)
    TIMED.append((row, model, one, batch))
    print(f"{task}: {name}: accuracy {row['accuracy']:.4f}, {row['size_kb']:.0f} KB")
    return row


def time_every_model(rounds):
    """Each model's fastest forward pass for one input and for 64, timed in turn over ``rounds`` rounds."""
    for row, *_ in TIMED:
        row["latency_1_ms"] = row["latency_64_ms"] = float("inf")
    for round_number in range(rounds + 1):
        for row, model, one, batch in TIMED:
            for key, inputs in (("latency_1_ms", one), ("latency_64_ms", batch)):
                milliseconds = 1000 * latency(model, inputs, repeats=1, warmup=0)
                if round_number:  # round 0 warms up
                    row[key] = min(row[key], milliseconds)


def markdown(rows):
    lines = ["| model | size (KB) | zipped (KB) | parameters | nonzero | trained | test accuracy | "
             "latency, 1 (ms) | latency, 64 (ms) |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['size_kb']:.0f} | {r['zipped_kb']:.0f} | {r['parameters']:,} | {r['nonzero']:,} | "
              f"{r['trained']:,} | {r['accuracy']:.4f} | {r['latency_1_ms']:.2f} | {r['latency_64_ms']:.1f} |"
              for r in rows]
    return "\n".join(lines) + "\n"


# %% [markdown]
# # Part 1: chapter 04's image classifier
#
# The teacher is chapter 04's network, trained with Adam and a cosine schedule.

# %%
started = time.perf_counter()
minidl.manual_seed(0)
if CNN["dataset"] == "digits":
    cnn_train, cnn_test = cnn.digits_data(0)
else:
    cnn_train, cnn_test = cnn.fashion_data()
image_size = cnn_train.tensors[0].shape[-1]
train_loader = DataLoader(cnn_train, batch_size=CNN["batch_size"], shuffle=True, seed=0)
test_loader = DataLoader(cnn_test, batch_size=500)
test_images = cnn_test.tensors[0]
one_image, image_batch = test_images[:1], test_images[:64]


def train_cnn(model, epochs, lr, loader=train_loader):
    """Adam with a cosine schedule; returns the model (trained in place)."""
    optimizer = Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    fit(model, loader, optimizer, epochs, scheduler=CosineAnnealingLR(optimizer, T_max=max(epochs, 1)),
        progress=False)
    return model


teacher_cnn = train_cnn(cnn.make_model(CNN["model"], image_size, 16), CNN["epochs"], CNN["lr"])
teacher_cnn.eval()
cnn_accuracy = evaluate(teacher_cnn, test_loader)
cnn_parameters = count_parameters(teacher_cnn)
measure("cnn", f"{type(teacher_cnn).__name__} (chapter 04)", teacher_cnn, cnn_accuracy, cnn_parameters, one_image,
        image_batch)
chance = 1 / 10
chapter.check(cnn_accuracy > 0.85, f"the {CNN['dataset']} teacher reaches more than 85% test accuracy")

# %% [markdown]
# ## Distillation
#
# A network of a few thousand parameters (two 3x3 convolutions and one dense layer) learns from
# the teacher's softened outputs. With temperature T the teacher's probabilities
# $p^{T}_t = \mathrm{softmax}(z_t / T)$ keep the information of which wrong classes it found
# *almost* right (a shirt that looks a bit like a pullover); the student minimises
#
# $$\mathcal{L} = \alpha\, T^2\, \mathrm{KL}\big(p^T_t \,\|\, p^T_s\big) + (1 - \alpha)\, \mathrm{CE}(z_s, y),
# \qquad \mathrm{KL}(p \,\|\, q) = \sum_c p_c \log \frac{p_c}{q_c},$$
#
# where the T² keeps the soft term's gradients (which shrink like 1/T²) on the scale of the
# hard one's. `F.kl_div(log_q, p, reduction='batchmean')` is this KL averaged over the batch
# (PyTorch's 'mean' would also divide by the number of classes). The same student is also
# trained from the labels alone, with the same budget, to see what the teacher adds.

# %%
TEMPERATURE, ALPHA = 4.0, 0.9


def distill_cnn(student, alpha):
    optimizer = Adam(student.parameters(), lr=CNN["lr"])
    steps = CNN["epochs"] * len(train_loader)
    distill(student, teacher_cnn, train_loader, optimizer, CNN["epochs"], TEMPERATURE, alpha,
            scheduler=CosineAnnealingLR(optimizer, T_max=steps), progress=False)
    return student.eval()


for label, alpha in (("student CNN, distilled", ALPHA), ("student CNN, labels only", 0.0)):
    minidl.manual_seed(1)
    student = distill_cnn(StudentCNN(image_size=image_size, width=CNN["student_width"]), alpha)
    measure("cnn", label, student, evaluate(student, test_loader), count_parameters(student), one_image,
            image_batch)
chapter.check(count_parameters(student) * 8 < cnn_parameters, "the student CNN has under an eighth of the parameters")

# %% [markdown]
# ## Pruning
#
# `prune.global_unstructured` ranks the weights of every convolution and dense layer together by
# |w| and zeroes the smallest share of them, so each layer loses what it can best afford. The
# layout is PyTorch's: each pruned weight becomes a trained `weight_orig` and a 0/1 buffer
# `weight_mask`, and a forward pre-hook recomputes `weight = weight_orig ⊙ weight_mask`.
# Fine-tuning trains through the mask, so the pruned weights stay zero while the others adapt;
# `prune.remove` then makes the zeros permanent.

# %%
def prunable(model):
    return [(module, "weight") for module in model.modules() if isinstance(module, (nn.Conv2d, nn.Linear))]


example = copy.deepcopy(teacher_cnn)
prune.global_unstructured(prunable(example), prune.L1Unstructured, amount=0.5)
pruned_keys = list(prunable(example)[0][0].state_dict())
print("state dict of the first pruned layer:", pruned_keys)
chapter.check("weight" not in pruned_keys and pruned_keys[-2:] == ["weight_orig", "weight_mask"],
              "a pruned layer keeps PyTorch's layout: weight_orig (trained) and weight_mask (a buffer)")
masks = [module.weight_mask.numpy() for module, _ in prunable(example)]
kept_share = sum(mask.sum() for mask in masks) / sum(mask.size for mask in masks)
chapter.check(abs(kept_share - 0.5) < 1e-3, "global pruning at 50% zeroes half of the weights")
print("share kept per layer:", [round(float(mask.mean()), 3) for mask in masks])

pruning_curve = {"without fine-tuning": [], "fine-tuned 1 epoch": []}
for amount in PRUNE_AMOUNTS:
    for finetuned in (False, True):
        model = copy.deepcopy(teacher_cnn)
        prune.global_unstructured(prunable(model), prune.L1Unstructured, amount=amount)
        if finetuned:
            train_cnn(model.train(), 1, CNN["lr"] / 4)
        for module, name in prunable(model):
            prune.remove(module, name)
        model.eval()
        accuracy = evaluate(model, test_loader)
        label = "fine-tuned 1 epoch" if finetuned else "without fine-tuning"
        pruning_curve[label].append(accuracy)
        measure("cnn", f"pruned {amount:.0%}, {label}", model, accuracy, cnn_parameters if finetuned else 0,
                one_image, image_batch)
chapter.check(pruning_curve["fine-tuned 1 epoch"][-1] >= pruning_curve["without fine-tuning"][-1],
              "at 90% pruning, fine-tuning through the mask recovers accuracy")

# %% [markdown]
# ## int8 quantization
#
# An int8 number q stands for the real value r = s·(q − z): s is the size of one step, z the
# integer that means 0.0. Weights get one symmetric scale per output channel (z = 0, int8 from
# −128 to 127); a layer's input one affine scale for the whole tensor (uint8, 0 to 255). Within
# the range, rounding errs by at most half a step, s/2. A quantized layer then computes
#
# $$y = s_x\, s_w \odot \Big(\sum_k x_q[k]\, W_q[:, k] - z_x \sum_k W_q[:, k]\Big) + b,$$
#
# multiplying 8-bit integers and adding the products in **int32**, with one rescale back to
# float at the end. Here is that arithmetic on its own, checked against int64:

# %%
rng = np.random.default_rng(0)
a = rng.integers(0, 256, size=(64, 512)).astype(np.uint8)
w = rng.integers(-128, 128, size=(512, 256)).astype(np.int8)
exact = Q.int_matmul(a, w)
chapter.check(exact.dtype == np.int32 and np.array_equal(exact, a.astype(np.int64) @ w.astype(np.int64)),
              "the int8 product summed in int32 equals the int64 product exactly")
values = rng.standard_normal(10_000).astype(np.float32)
observer = Q.MinMaxObserver()
observer(minidl.tensor(values))
scale, zero_point = (float(t.numpy().reshape(-1)[0]) for t in observer.calculate_qparams())
restored = Q.quantize_per_tensor(minidl.tensor(values), scale, int(zero_point), Q.quint8).dequantize().numpy()
chapter.record("quantization step for N(0, 1) values", scale)
chapter.check(np.abs(restored - values).max() <= scale / 2 + 1e-6, "quantize-dequantize errs by at most half a step")

# %% [markdown]
# **Static post-training quantization** needs a few batches of real inputs to choose each
# layer's input scale: `prepare` puts an observer in front of every layer, the calibration data
# runs through, `convert` swaps in the int8 layers. Two observers: min-max spans every value seen;
# the histogram observer picks the range that minimises the expected squared error, clipping rare
# outliers. **Quantization-aware training** (QAT) fine-tunes through *fake* quantization: the
# forward pass rounds weights and inputs to the int8 grid (in float), the backward pass lets the
# gradient straight through where the value was inside the grid's range (the straight-through
# estimator), so the weights learn to tolerate the rounding.

# %%
def calibrated(model, qconfig, batches):
    prepared = Q.prepare(model.eval(), qconfig)
    with minidl.no_grad():
        for inputs in batches:
            prepared(inputs)
    return Q.convert(prepared)


calibration = [cnn_train.tensors[0][i:i + 64] for i in range(0, 512, 64)]
for label, qconfig in (("int8, min-max calibration", Q.minmax_qconfig),
                       ("int8, histogram calibration", Q.histogram_qconfig)):
    quantized = calibrated(teacher_cnn, qconfig, calibration)
    int8_accuracy = evaluate(quantized, test_loader)
    row = measure("cnn", label, quantized, int8_accuracy, 0, one_image, image_batch, parameters=cnn_parameters,
                  nonzero=cnn_parameters)
chapter.check(row["size_kb"] < 0.4 * ROWS["cnn"][0]["size_kb"], "the int8 checkpoint is under 40% of the float one")
chapter.check(int8_accuracy > cnn_accuracy - 0.03, "int8 keeps the accuracy within 3 points")

minidl.manual_seed(2)
qat_model = Q.prepare_qat(teacher_cnn.train())
train_cnn(qat_model, 1, CNN["lr"] / 10)
qat_model.eval()
qat_converted = Q.convert(qat_model)
measure("cnn", "int8, quantization-aware training (1 epoch)", qat_converted, evaluate(qat_converted, test_loader),
        cnn_parameters, one_image, image_batch, parameters=cnn_parameters, nonzero=cnn_parameters)
teacher_cnn.eval()
chapter.record("part 1 seconds", round(time.perf_counter() - started, 1))

# %% [markdown]
# # Part 2: chapter 06's sentiment MiniBERT
#
# The same character vocabulary and MiniBERT as chapter 06. Full mode repeats its pretraining
# (news, then the unlabelled review text, with 40% masking); quick mode pretrains for a few
# seconds on review text only, enough to show LoRA working but not to help.

# %%
started = time.perf_counter()
news_lines = load_chinese_news().split("\n")
sentiment = load_chinese_sentiment()
tokenizer = CharTokenizer.from_corpus(news_lines + sentiment["train_sentences"], min_freq=3)
MAX_LENGTH = BERT_CONFIG["max_length"]
train_ids, _ = tokenizer.batch_encode(sentiment["train_sentences"][:BERT["train_size"]], MAX_LENGTH)
test_ids, _ = tokenizer.batch_encode(sentiment["test_sentences"][:BERT["test_size"]], MAX_LENGTH)
train_labels = sentiment["train_labels"][:len(train_ids)]
test_labels = sentiment["test_labels"][:len(test_ids)]
chapter.record("training reviews", len(train_ids))
chapter.record("test reviews", len(test_ids))
one_review, review_batch = minidl.tensor(test_ids[:1]), minidl.tensor(test_ids[:64])
_, review_test_loader = loaders(train_ids, train_labels, test_ids, test_labels, 32, 0)

minidl.manual_seed(0)
pretrained = make_model(len(tokenizer), BERT_CONFIG)
stages = [("news", news_lines[:BERT["news_lines"]])] if BERT["news_lines"] != 0 else []
stages.append(("review text", sentiment["train_sentences"][:BERT["review_lines"]]))
for seed, (stage, lines) in enumerate(stages):
    windows = text_windows(tokenizer, lines, MAX_LENGTH, min_chars=8 if stage == "news" else 4)  # as chapter 06
    losses = pretrain(pretrained, tokenizer, windows, BERT["pretrain_steps"], batch_size=32, lr=5e-3, mask_prob=0.4,
                      seed=seed, max_seconds=BERT["pretrain_seconds"], progress=False)
    chapter.record(f"pretraining steps on {stage}", len(losses))
pretrained_state = {name: value.numpy().copy() for name, value in pretrained.state_dict().items()}


def from_pretrained():
    minidl.manual_seed(0)
    model = make_model(len(tokenizer), BERT_CONFIG)
    model.load_state_dict(pretrained_state)
    return model


def accuracy_of(model):
    return evaluate(ReadClassifier(model), review_test_loader)


def bert_row(name, model, trained, parameters=None, nonzero=None):
    model.eval()
    return measure("bert", name, ReadClassifier(model), accuracy_of(model), trained, one_review, review_batch,
                   parameters, nonzero)


# %% [markdown]
# ## Full fine-tuning against LoRA
#
# Full fine-tuning updates every weight of the pretrained MiniBERT. **LoRA** freezes them all and
# learns, for each adapted matrix W, a low-rank correction
#
# $$W' = W + \frac{\alpha}{r} B A, \qquad A \in \mathbb{R}^{r \times d_{in}},\; B \in \mathbb{R}^{d_{out} \times r},$$
#
# with B = 0 at the start (the model starts as the pretrained one). We adapt the attention's
# query and value projections (their blocks of the packed `in_proj_weight`), its output
# projection and both feed-forward layers with r = 8, and train the new classification head
# fully. After training, `merge_and_unload` adds (α/r)·BA into each weight: the merged model has
# the pretrained model's shape and speed.

# %%
minidl.manual_seed(0)
full = from_pretrained()
finetune(full, train_ids, train_labels, test_ids, test_labels, epochs=BERT["epochs"], lr=1e-3, progress=False,
         description="full fine-tuning")
bert_parameters = count_parameters(full)
bert_row("pretrained MiniBERT, full fine-tuning", full, bert_parameters)

minidl.manual_seed(0)
lora = apply_lora(from_pretrained(), ["self_attn", "out_proj", "linear1", "linear2"], r=8, lora_alpha=16,
                  modules_to_save=["pooler", "classifier"])
lora_trained = count_parameters(lora, trainable_only=True)
chapter.record("LoRA: adapted layers", len(lora_layers(lora)))
chapter.record("LoRA: trained parameters", lora_trained)
finetune(lora, train_ids, train_labels, test_ids, test_labels, epochs=BERT["epochs"], lr=3e-3, progress=False,
         description="LoRA")
lora.eval()
with minidl.no_grad():
    unmerged = lora.classify(review_batch).numpy().copy()
    merge_lora(lora)
    merged = lora.classify(review_batch).numpy()
chapter.check(np.allclose(merged, unmerged, atol=1e-5), "the merged LoRA model gives the unmerged model's outputs")
merge_and_unload(lora)
chapter.check(list(lora.state_dict()) == list(full.state_dict()), "after merging, the state dict has the original keys")
chapter.check(lora_trained < 0.25 * bert_parameters, "LoRA trains under a quarter of the parameters")
bert_row("pretrained MiniBERT, LoRA r=8 (merged)", lora, lora_trained)

# %% [markdown]
# ## The teacher, and a DistilBERT-style student
#
# In full mode the teacher is the fully fine-tuned pretrained model above. (In quick mode, whose
# pretraining is too short to help, the teacher is the same network trained from scratch.) The
# student follows DistilBERT: the same widths with half the layers, each initialised from every
# other teacher layer, then trained on the distillation loss; a twin student starts the same way
# and learns from the labels alone.

# %%
if chapter.quick:
    minidl.manual_seed(0)
    teacher_bert = make_model(len(tokenizer), BERT_CONFIG)
    finetune(teacher_bert, train_ids, train_labels, test_ids, test_labels, epochs=BERT["epochs"], lr=1e-3,
             progress=False)
    bert_row("MiniBERT from scratch (the quick-mode teacher)", teacher_bert, bert_parameters)
else:
    teacher_bert = full
teacher_bert.eval()
teacher_accuracy = accuracy_of(teacher_bert)

for label, alpha in (("DistilBERT-style student (1 layer), distilled", 0.5),
                     ("DistilBERT-style student (1 layer), labels only", 0.0)):
    minidl.manual_seed(3)
    student_bert = distilbert_student(teacher_bert)
    train_loader_bert, _ = loaders(train_ids, train_labels, test_ids, test_labels, 32, 0)
    optimizer = AdamW(student_bert.parameters(), lr=1e-3, weight_decay=0.01)
    steps = BERT["epochs"] * len(train_loader_bert)
    distill(ReadClassifier(student_bert), ReadClassifier(teacher_bert), train_loader_bert, optimizer, BERT["epochs"],
            temperature=2.0, alpha=alpha, scheduler=linear_warmup(optimizer, max(1, steps // 10), steps),
            progress=False)
    bert_row(label, student_bert, count_parameters(student_bert))
chapter.check(len(student_bert.encoder.layers) * 2 == len(teacher_bert.encoder.layers),
              "the student has half the teacher's encoder layers")

# %% [markdown]
# ## Pruning the encoder
#
# Global L1 pruning over every matrix of the encoder (the packed attention projection, the output
# projection and both feed-forward layers); the embeddings and the heads stay dense.

# %%
def encoder_matrices(model):
    found = []
    for layer in model.encoder.layers:
        found += [(layer.self_attn, "in_proj_weight"), (layer.self_attn.out_proj, "weight"),
                  (layer.linear1, "weight"), (layer.linear2, "weight")]
    return found


teacher_state = {name: value.numpy().copy() for name, value in teacher_bert.state_dict().items()}
bert_curve = {"without fine-tuning": [], "fine-tuned 1 epoch": []}
for amount in PRUNE_AMOUNTS:
    for finetuned in (False, True):
        model = make_model(len(tokenizer), BERT_CONFIG)
        model.load_state_dict(teacher_state)
        prune.global_unstructured(encoder_matrices(model), prune.L1Unstructured, amount=amount)
        if finetuned:
            finetune(model, train_ids, train_labels, test_ids, test_labels, epochs=1, lr=5e-4, progress=False)
        for module, name in encoder_matrices(model):
            prune.remove(module, name)
        label = "fine-tuned 1 epoch" if finetuned else "without fine-tuning"
        row = bert_row(f"pruned {amount:.0%} of the encoder, {label}", model, bert_parameters if finetuned else 0)
        bert_curve[label].append(row["accuracy"])

# %% [markdown]
# ## int8 MiniBERT
#
# Dynamic quantization needs no calibration: each Linear quantizes its input from that input's
# own range, at run time. Static quantization calibrates on 512 training reviews. Both also store
# the embeddings and the packed attention projection in int8 (that projection is multiplied by
# the attention layer itself, so it is expanded back to float before each forward pass:
# "weight-only"). The masked-LM head is not used for classification; `qconfig = None` keeps it
# out. QAT fine-tunes one epoch through fake quantization before converting.

# %%
teacher_bert.mlm_transform.qconfig = None
dynamic = Q.quantize_dynamic(teacher_bert, {nn.Linear, nn.Embedding, nn.MultiheadAttention})
bert_row("int8, dynamic", dynamic, 0, bert_parameters, bert_parameters)

prepared = Q.prepare(teacher_bert, Q.histogram_qconfig)
with minidl.no_grad():
    for first in range(0, 512, 64):
        prepared.classify(train_ids[first:first + 64])
static = Q.convert(prepared)
static_row = bert_row("int8, static (histogram calibration)", static, 0, bert_parameters, bert_parameters)
chapter.check(static_row["size_kb"] < 0.4 * ROWS["bert"][0]["size_kb"], "the int8 MiniBERT checkpoint is under 40% of the "
              "float one")
# quick mode's barely trained teacher has many reviews near its decision boundary: a wider margin there
margin = 0.05 if chapter.quick else 0.03
chapter.check(static_row["accuracy"] > teacher_accuracy - margin,
              f"int8 MiniBERT keeps the accuracy within {margin * 100:.0f} points")

qat_bert = Q.prepare_qat(teacher_bert)
finetune(qat_bert, train_ids, train_labels, test_ids, test_labels, epochs=1, lr=1e-4, progress=False)
qat_bert.eval()
bert_row("int8, quantization-aware training (1 epoch)", Q.convert(qat_bert), bert_parameters, bert_parameters,
         bert_parameters)
chapter.record("part 2 seconds", round(time.perf_counter() - started, 1))

# %% [markdown]
# ## Why int8 is not faster here
#
# On a CPU with int8 instructions (x86 VNNI, ARM dot-product), an int8 product does four times
# the multiply-adds of float32 per instruction and moves a quarter of the bytes. NumPy has no
# int8 matrix product: `int_matmul` converts to int32 and runs NumPy's generic integer loops, which
# use no BLAS, no blocking for the caches, no SIMD dot products. The same product in float32 goes
# to the BLAS library. Timed on one shape of the MiniBERT's feed-forward layer (64 reviews × 64
# characters = 4,096 rows):

# %%
rows_q = rng.integers(0, 256, size=(4096, 64)).astype(np.uint8)
weight_q = rng.integers(-128, 128, size=(64, 256)).astype(np.int8)
rows_f, weight_f = rows_q.astype(np.float32), weight_q.astype(np.float32)


def best_of(fn, repeats=5):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


int_seconds = best_of(lambda: Q.int_matmul(rows_q, weight_q))
float_seconds = best_of(lambda: rows_f @ weight_f)
chapter.record("int8 product with int32 sums (ms)", round(1000 * int_seconds, 2))
chapter.record("float32 BLAS product (ms)", round(1000 * float_seconds, 2))
chapter.record("int8 / float32 time", round(int_seconds / float_seconds, 1))

# %% [markdown]
# ## The table
#
# Now every model of both tables is timed, in turn, round after round.

# %%
started = time.perf_counter()
time_every_model(ROUNDS)
chapter.record("timing seconds", round(time.perf_counter() - started, 1))
tables = {task: markdown(rows) for task, rows in ROWS.items()}
for task, title in (("cnn", f"Part 1: {CNN['dataset']}"), ("bert", "Part 2: sentiment MiniBERT")):
    print(f"\n{title}\n\n{tables[task]}")
(chapter.folder / "table.md").write_text(
    f"## {CNN['dataset']}\n\n{tables['cnn']}\n## sentiment\n\n{tables['bert']}", encoding="utf-8")
(chapter.folder / "table.json").write_text(json.dumps({"mode": "quick" if chapter.quick else "full", **ROWS},
                                                      indent=2, ensure_ascii=False), encoding="utf-8")
for task, rows in ROWS.items():
    for row in rows:
        chapter.record(f"{task}: {row['model']}: test accuracy", row["accuracy"])
chapter.check(all(row["accuracy"] > chance + 0.3 for row in ROWS["cnn"] if "without fine-tuning" not in row["model"]),
              "every trained or quantized image classifier in the table beats chance by more than 30 points")

# %%
FAMILIES = [("pruned", "without", "pruned, not fine-tuned", "tab:red", "v"),
            ("pruned", "fine-tuned", "pruned, fine-tuned", "tab:orange", "^"),
            ("quantization-aware", "", "int8 after QAT", "tab:purple", "D"),
            ("int8", "", "int8 after training", "tab:blue", "s"),
            ("student", "", "distilled-size student", "tab:green", "o"),
            ("LoRA", "", "LoRA fine-tuned", "tab:olive", "P"),
            ("", "", "full model", "black", "*")]


def family(name):
    """(legend label, colour, marker) of a table row's method."""
    for first, second, label, colour, marker in FAMILIES:
        if first in name and second in name:
            return label, colour, marker


def scatter(path, x_key, x_label):
    figure = Figure(figsize=(10, 4))
    for column, (task, title) in enumerate((("cnn", CNN["dataset"]), ("bert", "sentiment MiniBERT"))):
        axes = figure.add_subplot(1, 2, column + 1)
        shown = set()
        for row in ROWS[task]:
            label, colour, marker = family(row["model"])
            axes.scatter(row[x_key], row["accuracy"], color=colour, marker=marker, s=40,
                         label=None if label in shown else label)
            shown.add(label)
        axes.set(xscale="log", xlabel=x_label, ylabel="test accuracy", title=title)
        axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(chapter.figure(path), dpi=110)


scatter("accuracy_vs_size.png", "zipped_kb", "checkpoint size, zipped (KB, log scale)")
scatter("accuracy_vs_latency.png", "latency_64_ms", "latency for a batch of 64 (ms, log scale)")

figure = Figure(figsize=(10, 3.2))
for column, (curve, baseline, title) in enumerate(((pruning_curve, cnn_accuracy, CNN["dataset"]),
                                                   (bert_curve, teacher_accuracy, "sentiment MiniBERT"))):
    axes = figure.add_subplot(1, 2, column + 1)
    for label, values in curve.items():
        axes.plot([100 * a for a in PRUNE_AMOUNTS], values, marker="o", label=label)
    axes.axhline(baseline, color="grey", linestyle=":", label="unpruned")
    axes.set(xlabel="weights pruned (%)", ylabel="test accuracy", title=f"pruning: {title}")
    axes.legend(fontsize=8)
figure.tight_layout()
figure.savefig(chapter.figure("pruning.png"), dpi=110)

# %% [markdown]
# ## What the numbers say
#
# Our full-mode run (two CPU cores shared with other programs, 46 minutes; accuracy on the
# 10,000 Fashion-MNIST test images and the 3,472 test reviews):
#
# | Fashion-MNIST | size (KB) | zipped (KB) | parameters | nonzero | trained | test accuracy | latency, 1 (ms) | latency, 64 (ms) |
# |---|---|---|---|---|---|---|---|---|
# | SmallVGG (chapter 04) | 865 | 796 | 218,586 | 218,586 | 218,586 | 0.9261 | 1.27 | 13.9 |
# | student CNN, distilled | 38 | 34 | 9,098 | 9,098 | 9,098 | 0.8792 | 0.39 | 2.2 |
# | student CNN, labels only | 38 | 34 | 9,098 | 9,098 | 9,098 | 0.8921 | 0.34 | 2.1 |
# | pruned 50%, without fine-tuning | 865 | 481 | 218,586 | 109,458 | 0 | 0.9226 | 0.95 | 13.3 |
# | pruned 50%, fine-tuned 1 epoch | 865 | 482 | 218,586 | 109,458 | 218,586 | 0.9217 | 0.99 | 13.4 |
# | pruned 80%, without fine-tuning | 865 | 249 | 218,586 | 43,981 | 0 | 0.9091 | 1.00 | 13.5 |
# | pruned 80%, fine-tuned 1 epoch | 865 | 250 | 218,586 | 43,981 | 218,586 | 0.9243 | 0.97 | 13.9 |
# | pruned 90%, without fine-tuning | 865 | 164 | 218,586 | 22,156 | 0 | 0.7271 | 0.99 | 13.7 |
# | pruned 90%, fine-tuned 1 epoch | 865 | 165 | 218,586 | 22,156 | 218,586 | 0.9162 | 1.01 | 13.5 |
# | int8, min-max calibration | 233 | 205 | 218,586 | 218,586 | 0 | 0.9260 | 4.54 | 573.4 |
# | int8, histogram calibration | 233 | 205 | 218,586 | 218,586 | 0 | 0.9255 | 4.54 | 565.7 |
# | int8, quantization-aware training (1 epoch) | 233 | 205 | 218,586 | 218,586 | 218,586 | 0.9242 | 4.48 | 569.1 |
#
# | sentiment | size (KB) | zipped (KB) | parameters | nonzero | trained | test accuracy | latency, 1 (ms) | latency, 64 (ms) |
# |---|---|---|---|---|---|---|---|---|
# | pretrained MiniBERT, full fine-tuning | 1578 | 1452 | 400,525 | 400,525 | 400,525 | 0.8263 | 2.24 | 55.8 |
# | pretrained MiniBERT, LoRA r=8 (merged) | 1578 | 1452 | 400,525 | 400,525 | 20,674 | 0.7915 | 2.07 | 56.1 |
# | DistilBERT-style student (1 layer), distilled | 1379 | 1270 | 350,541 | 350,541 | 350,541 | 0.8180 | 1.24 | 28.4 |
# | DistilBERT-style student (1 layer), labels only | 1379 | 1270 | 350,541 | 350,541 | 350,541 | 0.8154 | 1.23 | 28.7 |
# | pruned 50% of the encoder, without fine-tuning | 1578 | 1313 | 400,525 | 351,373 | 0 | 0.8180 | 2.13 | 56.1 |
# | pruned 50% of the encoder, fine-tuned 1 epoch | 1578 | 1313 | 400,525 | 351,373 | 400,525 | 0.8283 | 2.06 | 56.6 |
# | pruned 80% of the encoder, without fine-tuning | 1578 | 1209 | 400,525 | 321,882 | 0 | 0.4963 | 2.08 | 56.9 |
# | pruned 80% of the encoder, fine-tuned 1 epoch | 1578 | 1209 | 400,525 | 321,882 | 400,525 | 0.8033 | 2.07 | 55.8 |
# | pruned 90% of the encoder, without fine-tuning | 1578 | 1170 | 400,525 | 312,051 | 0 | 0.4798 | 2.03 | 57.7 |
# | pruned 90% of the encoder, fine-tuned 1 epoch | 1578 | 1171 | 400,525 | 312,051 | 400,525 | 0.7549 | 2.04 | 56.8 |
# | int8, dynamic | 474 | 439 | 400,525 | 400,525 | 0 | 0.8278 | 5.96 | 249.8 |
# | int8, static (histogram calibration) | 480 | 439 | 400,525 | 400,525 | 0 | 0.8269 | 6.04 | 249.3 |
# | int8, quantization-aware training (1 epoch) | 480 | 440 | 400,525 | 400,525 | 400,525 | 0.8278 | 5.90 | 247.6 |
#
# * **int8 is the best deal for size and the worst for speed — here.** The checkpoints shrink
#   3.7 times (SmallVGG, 865 → 233 KB) and 3.3 times (MiniBERT, 1,578 → 480 KB: the float32 rest —
#   norms, biases, positions, one scale per row — keeps it above a quarter) and lose nothing:
#   0.926 against 0.926 and 0.827–0.828 against 0.826. Min-max and histogram calibration tie, and
#   quantization-aware training has nothing left to recover: post-training int8 is already
#   lossless for these models. But the int8 models are *slower*: 41 times at a batch of 64 for the
#   CNN, 4.5 times for MiniBERT. NumPy has no int8 matrix product: `int_matmul` widens to int32 and
#   runs NumPy's generic integer loops, without BLAS, cache blocking or SIMD dot products — 68 times
#   slower than the float32 BLAS product of the same shape (46 ms against 0.68 ms above). On top
#   come the passes that quantize inputs and rescale outputs, and the weight-only embeddings and
#   attention projection expanded back to float on every call. The CNN suffers most because its
#   time is almost all convolution products; MiniBERT spends part of its time in float attention,
#   softmax and layer norms that int8 does not touch. Int8 is faster where the hardware and the
#   library are built for it (int8 dot-product instructions, used by PyTorch through fbgemm or
#   oneDNN); in NumPy it saves memory and disk, not time.
# * **Pruning saves nothing until something exploits the zeros.** The checkpoint and the latency
#   stay those of the full model: BLAS multiplies a zero as fast as any other number. Compressed,
#   the file shrinks with the zeros (796 → 164 KB for the CNN at 90%). The CNN loses almost nothing
#   at 50% and 80% even without fine-tuning; at 90% it falls to 0.727, and one epoch of fine-tuning
#   through the mask brings it back to 0.916. MiniBERT's encoder is far more fragile: at 80%
#   without fine-tuning it answers no better than chance (0.496); fine-tuning recovers 0.803 at
#   80% and 0.755 at 90%. And its encoder's matrices are only a quarter of its parameters (the
#   embeddings are most of the rest), so pruning them cannot shrink it much. Speed from pruning
#   needs whole rows or channels removed (`ln_structured`, then a smaller layer) or sparse kernels.
# * **Distillation gives small, fast students; the teacher's soft targets helped little.** The
#   student CNN has 24 times fewer parameters and runs 6 times faster at a batch of 64, 4.7 points
#   below the teacher — but learning from the teacher (T = 4, α = 0.9) left it 1.3 points *below* the
#   same student trained on the labels alone; we did not tune T or α, and a network this small may
#   simply not be able to follow a 24 times larger teacher's full distribution. The DistilBERT-style
#   student (one of the teacher's two layers) keeps 0.818 against the teacher's 0.826 at half the
#   latency, and distilled it is 0.3 points above its labels-only twin (9 of 3,472 reviews: within
#   the noise of one run). It is only 13% smaller, because the embeddings it keeps are most of the
#   model — DistilBERT halved BERT's 12 layers, where the layers are most of the weights.
# * **LoRA trains 5% of the parameters** (20,674 of 400,525: gradients and optimizer state for those
#   only) and, merged, costs exactly what the full model costs. It reached 0.792 against 0.826 for
#   full fine-tuning with the same three epochs: with a small model pretrained for minutes, the
#   frozen features are not yet good enough for a low-rank correction to carry the task. LoRA pays
#   when the frozen model is large and strong, and when many tasks share it: each task then stores
#   20,674 numbers instead of 400,525.
#
# (The quick mode's numbers come from models trained for seconds; they show that every method
# runs, not what it is worth.)

# %%
chapter.finish()
