"""MiniBERT, MiniGPT, Seq2SeqTransformer and BERT's masked-LM corruption."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl.data.tokenizer import CharTokenizer
from minidl.models.bert import MiniBERT
from minidl.models.gpt import MiniGPT
from minidl.models.masking import IGNORE_INDEX, mask_tokens
from minidl.models.seq2seq import Seq2SeqTransformer
from minidl.nn import functional as F
from minidl.testing import gradcheck
from conftest import as_numpy, leaf, with_params

try:
    import torch
except ImportError:  # the parity test is skipped without PyTorch
    torch = None

V, D, NHEAD, FF, T, B = 12, 8, 2, 16, 5, 2  # vocabulary, d_model, heads, feed-forward width, length, batch
PAD, CLS, SEP, MASK = 0, 2, 3, 4
TOKENIZER_SPEC = {"mask_id": MASK, "pad_id": PAD, "cls_id": CLS, "sep_id": SEP, "vocab_size": V}


def tiny(cls, **options):
    minidl.manual_seed(0)
    defaults = {"d_model": D, "nhead": NHEAD, "dim_feedforward": FF, "max_len": 8, "dropout": 0.0}
    return cls(**{**defaults, **options})


def bert_ids(rng, batch=B, length=T):
    """[CLS] w… [SEP] [PAD]…: the second row is two shorter."""
    ids = rng.integers(5, V, size=(batch, length))
    ids[:, 0] = CLS
    ids[0, -1] = SEP
    ids[1:, -3:] = [SEP, PAD, PAD]
    return ids


def gradcheck_parameters(model, names, loss):
    """gradcheck of loss() with respect to the named parameters of model (swapped for plain leaves)."""
    parameters = dict(model.named_parameters())
    run = with_params(model, names)
    assert gradcheck(lambda *params: run(loss, *params), [leaf(as_numpy(parameters[name]).copy()) for name in names])


# --- masking ---------------------------------------------------------------------------------------------------

TOKENIZER = CharTokenizer.from_corpus(["abcdefghijklmnopqrstuvwxyz0123456789"])


def corpus_ids(rng, rows=400, length=250):
    ids = rng.integers(5, TOKENIZER.vocab_size, size=(rows, length))
    ids[:, 0], ids[:, -20] = CLS, SEP
    ids[:, -19:] = PAD
    return ids


def test_mask_tokens_follows_bert_proportions():
    """Selection ~ 15% of the eligible tokens; of those 80% [MASK], 10% random, 10% kept (|z| < 4.5)."""
    ids = corpus_ids(np.random.default_rng(0))
    inputs, labels = mask_tokens(ids, TOKENIZER, np.random.default_rng(1))
    eligible = ~np.isin(ids, [PAD, CLS, SEP])
    selected = labels != IGNORE_INDEX

    def z(count, n, p):
        return (count - n * p) / np.sqrt(n * p * (1 - p))

    n_sel = selected.sum()
    candidates = TOKENIZER.vocab_size - 5
    changed_randomly = selected & (inputs != MASK) & (inputs != ids)
    assert abs(z(n_sel, eligible.sum(), 0.15)) < 4.5
    assert abs(z((inputs[selected] == MASK).sum(), n_sel, 0.8)) < 4.5
    # a random replacement equals the original with probability 1/candidates
    assert abs(z(changed_randomly.sum(), n_sel, 0.1 * (1 - 1 / candidates))) < 4.5
    assert abs(z((inputs[selected] == ids[selected]).sum(), n_sel, 0.1 + 0.1 / candidates)) < 4.5


def test_mask_tokens_never_touches_special_tokens_and_labels_the_selected():
    ids = corpus_ids(np.random.default_rng(2), rows=50)
    inputs, labels = mask_tokens(ids, TOKENIZER, np.random.default_rng(3), mask_prob=0.5)
    selected = labels != IGNORE_INDEX
    special = np.isin(ids, [PAD, CLS, SEP])
    assert not (selected & special).any()
    np.testing.assert_array_equal(labels[selected], ids[selected])
    np.testing.assert_array_equal(inputs[~selected], ids[~selected])
    replaced = selected & (inputs != MASK)
    assert (inputs[replaced] >= 5).all(), "random replacements are ordinary tokens"
    assert inputs.dtype == labels.dtype == np.int64 and inputs.shape == ids.shape


def test_mask_tokens_is_reproducible_and_accepts_tensors_and_dicts():
    ids = corpus_ids(np.random.default_rng(4), rows=8, length=40)
    first = mask_tokens(ids, TOKENIZER, np.random.default_rng(5))
    again = mask_tokens(minidl.tensor(ids), {"mask_id": MASK, "pad_id": PAD, "cls_id": CLS, "sep_id": SEP,
                                             "unk_id": 1, "vocab_size": TOKENIZER.vocab_size},
                        np.random.default_rng(5))
    assert isinstance(again[0], minidl.Tensor)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b.detach().numpy())
    other = mask_tokens(ids, TOKENIZER, np.random.default_rng(6))
    assert not np.array_equal(first[1], other[1])


def test_mask_tokens_rejects_bad_arguments():
    ids = np.array([[CLS, 7, 8, SEP]])
    with pytest.raises(TypeError, match="Generator"):
        mask_tokens(ids, TOKENIZER, 0)
    with pytest.raises(TypeError, match="integer"):
        mask_tokens(ids.astype(float), TOKENIZER, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mask_prob"):
        mask_tokens(ids, TOKENIZER, np.random.default_rng(0), mask_prob=1.5)
    with pytest.raises(ValueError, match="missing"):
        mask_tokens(ids, {"mask_id": MASK}, np.random.default_rng(0))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 4), length=st.integers(1, 30),
       mask_prob=st.sampled_from([0.0, 0.15, 0.5, 1.0]))
def test_whole_word_masking_selects_every_position_of_a_word_or_none(seed, rows, length, mask_prob):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, (rows, length))
    starts = rng.random((rows, length)) < 0.4
    starts[:, 0] = True
    words = np.cumsum(starts, axis=1) - 1  # words of random lengths
    inputs, labels = mask_tokens(ids, TOKENIZER, rng, mask_prob=mask_prob, words=words)
    eligible = ~np.isin(ids, [PAD, CLS, SEP])
    selected = labels != IGNORE_INDEX
    assert not (selected & ~eligible).any()
    for row in range(rows):
        for word in np.unique(words[row]):
            at = (words[row] == word) & eligible[row]
            assert selected[row][at].all() or not selected[row][at].any(), "a word is selected whole or not at all"
    if mask_prob in (0.0, 1.0):
        assert (selected == (eligible & (mask_prob == 1.0))).all()
    np.testing.assert_array_equal(inputs[~selected], ids[~selected])


def test_whole_word_masking_selects_words_at_mask_prob():
    """Each word is selected with probability 15% (|z| < 4.5), and whole-word runs equal per-token ones
    when every token is its own word."""
    ids = corpus_ids(np.random.default_rng(7))
    words = np.arange(ids.shape[1]) // 3 + np.zeros_like(ids)  # words of three tokens
    labels = mask_tokens(ids, TOKENIZER, np.random.default_rng(8), words=words)[1]
    eligible = ~np.isin(ids, [PAD, CLS, SEP])
    first_of_word = (np.arange(ids.shape[1]) % 3 == 0) & eligible
    n = first_of_word.sum()
    assert abs(((labels != IGNORE_INDEX) & first_of_word).sum() - 0.15 * n) / np.sqrt(n * 0.15 * 0.85) < 4.5
    own_words = np.arange(ids.shape[1]) + np.zeros_like(ids)
    per_token = mask_tokens(ids, TOKENIZER, np.random.default_rng(9))
    np.testing.assert_array_equal(per_token[1], mask_tokens(ids, TOKENIZER, np.random.default_rng(9),
                                                            words=own_words)[1])


def test_whole_word_masking_rejects_bad_words():
    ids = np.array([[CLS, 7, 8, SEP]])
    with pytest.raises(ValueError, match=r"words must have the shape of ids, \(1, 4\)"):
        mask_tokens(ids, TOKENIZER, np.random.default_rng(0), words=np.zeros((1, 3), dtype=int))
    with pytest.raises(ValueError, match="non-negative integer word numbers"):
        mask_tokens(ids, TOKENIZER, np.random.default_rng(0), words=np.array([[0, 1, -1, 2]]))
    with pytest.raises(ValueError, match="non-negative integer word numbers"):
        mask_tokens(ids, TOKENIZER, np.random.default_rng(0), words=np.zeros((1, 4)))


# --- MiniBERT --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tie_weights", [True, False])
def test_bert_shapes(tie_weights):
    model = tiny(MiniBERT, vocab_size=V, num_layers=2, num_classes=3, tie_weights=tie_weights)
    ids = bert_ids(np.random.default_rng(0))
    assert model(ids).shape == (B, T, D)
    assert model.mlm_logits(ids).shape == (B, T, V)
    assert model.classify(ids).shape == (B, 3)
    assert ("mlm_bias" in dict(model.named_parameters())) == tie_weights
    with pytest.raises(ValueError, match="max_len"):
        model(np.full((1, 9), 7))


def test_bert_ignores_padding():
    """Appending [PAD] leaves the hidden states of the real tokens unchanged."""
    model = tiny(MiniBERT, vocab_size=V, num_layers=2).eval()
    ids = bert_ids(np.random.default_rng(1))[:1]
    padded = np.concatenate([ids, np.zeros((1, 3), dtype=ids.dtype)], axis=1)
    np.testing.assert_allclose(model(padded).detach().numpy()[:, :T], model(ids).detach().numpy(), atol=1e-5)


def test_bert_gradcheck():
    model = tiny(MiniBERT, vocab_size=V, num_layers=1).double()
    rng = np.random.default_rng(2)
    ids = bert_ids(rng)
    inputs, labels = mask_tokens(ids, TOKENIZER_SPEC, rng, mask_prob=0.6)
    gradcheck_parameters(model, ["token_embedding.weight", "encoder.layers.0.self_attn.in_proj_weight"],
                         lambda: model.mlm_loss(inputs, labels))
    targets = minidl.tensor([0, 1])
    gradcheck_parameters(model, ["pooler.weight", "position_embedding.weight"],
                         lambda: F.cross_entropy(model.classify(ids), targets))


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_bert_matches_pytorch():
    """Embeddings → LayerNorm → post-norm GELU encoder → tied MLM head, in float64, against torch modules."""
    model = tiny(MiniBERT, vocab_size=V, num_layers=2).double().eval()
    nn = torch.nn
    reference = nn.ModuleDict({
        "token_embedding": nn.Embedding(V, D, padding_idx=PAD),
        "embedding_norm": nn.LayerNorm(D),
        "encoder": nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0, activation="gelu",
                                                                    batch_first=True), 2, enable_nested_tensor=False),
        "mlm_transform": nn.Sequential(nn.Linear(D, D), nn.GELU(), nn.LayerNorm(D))}).double().eval()
    state = {k: torch.tensor(v.detach().numpy()) for k, v in model.state_dict().items()}
    reference.load_state_dict({k: v for k, v in state.items() if k.split(".")[0] in reference}, strict=True)
    positions = state["position_embedding.weight"].clone().requires_grad_(True)
    mlm_bias = state["mlm_bias"].clone().requires_grad_(True)
    ids = bert_ids(np.random.default_rng(3))
    t_ids = torch.tensor(ids)

    embedded = reference["embedding_norm"](reference["token_embedding"](t_ids) + positions[:T])
    hidden = reference["encoder"](embedded, src_key_padding_mask=t_ids == PAD)
    logits = nn.functional.linear(reference["mlm_transform"](hidden), reference["token_embedding"].weight, mlm_bias)
    ours_hidden = model(ids)
    ours_logits = model.mlm_logits(ids, hidden=ours_hidden)
    np.testing.assert_allclose(ours_hidden.detach().numpy(), hidden.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(ours_logits.detach().numpy(), logits.detach().numpy(), atol=1e-10)

    upstream = np.random.default_rng(4).standard_normal(logits.shape)
    logits.backward(torch.tensor(upstream))
    ours_logits.backward(minidl.tensor(upstream))
    theirs = dict(reference.named_parameters(), **{"position_embedding.weight": positions, "mlm_bias": mlm_bias})
    ours = {name: p for name, p in model.named_parameters() if not name.startswith(("pooler", "classifier"))}
    assert sorted(ours) == sorted(theirs)
    for name, param in ours.items():
        np.testing.assert_allclose(param.grad.numpy(), theirs[name].grad.numpy(), atol=1e-10, err_msg=name)


# --- MiniGPT ---------------------------------------------------------------------------------------------------

def test_gpt_shapes_and_causality():
    model = tiny(MiniGPT, vocab_size=V, num_layers=2).eval()
    ids = np.random.default_rng(0).integers(0, V, size=(B, 6))
    logits = model(ids).detach().numpy()
    assert logits.shape == (B, 6, V)
    changed = ids.copy()
    changed[:, 3] = (changed[:, 3] + 1) % V
    np.testing.assert_allclose(model(changed).detach().numpy()[:, :3], logits[:, :3], atol=1e-5)
    assert not np.allclose(model(changed).detach().numpy()[:, 3:], logits[:, 3:])
    assert np.isfinite(model.loss(ids).item())


@pytest.mark.parametrize("tie_weights", [True, False])
def test_gpt_gradcheck(tie_weights):
    model = tiny(MiniGPT, vocab_size=V, num_layers=1, tie_weights=tie_weights).double()
    ids = np.random.default_rng(1).integers(0, V, size=(B, 6))
    head = "lm_bias" if tie_weights else "lm_head.weight"
    gradcheck_parameters(model, ["token_embedding.weight", "layers.layers.0.linear1.weight", head],
                         lambda: model.loss(ids))


def greedy_by_hand(model, prompt, steps):
    ids = list(prompt)
    for _ in range(steps):
        ids.append(int(model(np.array([ids[-model.max_len:]])).detach().numpy()[0, -1].argmax()))
    return ids


def test_generate_greedy_sampling_and_cropping():
    model = tiny(MiniGPT, vocab_size=V, num_layers=1, max_len=6).eval()
    prompt = [3, 5, 7, 9]
    greedy = model.generate(prompt, 7, temperature=0)  # runs past max_len: the context is cropped
    assert greedy.tolist() == greedy_by_hand(model, prompt, 7)
    assert model.generate(prompt, 7, temperature=1.3, top_k=1, rng=5).tolist() == greedy.tolist()
    first = model.generate([prompt, prompt[::-1]], 10, temperature=1.0, rng=np.random.default_rng(0))
    again = model.generate([prompt, prompt[::-1]], 10, temperature=1.0, rng=np.random.default_rng(0))
    other = model.generate([prompt, prompt[::-1]], 10, temperature=1.0, rng=np.random.default_rng(1))
    assert first.shape == (2, 14) and first.dtype == np.int64
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert model.training is False and model.generate(prompt, 0).tolist() == prompt


def test_generate_top_k_keeps_only_the_k_most_likely():
    model = tiny(MiniGPT, vocab_size=V, num_layers=1).eval()
    logits = model(np.array([[4]])).detach().numpy()[0, -1]
    allowed = set(np.argsort(logits)[-3:].tolist())
    drawn = model.generate(np.full((200, 1), 4), 1, temperature=5.0, top_k=3, rng=0)[:, 1]
    assert set(drawn.tolist()) == allowed


@pytest.mark.parametrize("arguments, message", [
    ({"max_new_tokens": -1}, "max_new_tokens"), ({"temperature": -0.5}, "temperature"),
    ({"temperature": float("nan")}, "temperature"), ({"top_k": 0}, "top_k"), ({"prompt_ids": [[]]}, "non-empty"),
    ({"prompt_ids": [1, V]}, "lie in"),
])
def test_generate_rejects_bad_arguments(arguments, message):
    model = tiny(MiniGPT, vocab_size=V, num_layers=1)
    with pytest.raises(ValueError, match=message):
        model.generate(**{"prompt_ids": [1, 2], "max_new_tokens": 3, **arguments})


# --- Seq2SeqTransformer ----------------------------------------------------------------------------------------

def tiny_seq2seq(**options):
    return tiny(Seq2SeqTransformer, src_vocab=V, tgt_vocab=V + 1, num_encoder_layers=1, num_decoder_layers=1,
                max_len=12, pad_id=PAD, **options)


def test_seq2seq_shapes_and_padding():
    model = tiny_seq2seq().eval()
    rng = np.random.default_rng(0)
    src, tgt = rng.integers(1, V, size=(B, 4)), rng.integers(1, V, size=(B, 3))
    logits = model(src, tgt).detach().numpy()
    assert logits.shape == (B, 3, V + 1)
    padded = np.concatenate([src, np.zeros((B, 2), dtype=src.dtype)], axis=1)
    np.testing.assert_allclose(model(padded, tgt).detach().numpy(), logits, atol=1e-5)


def test_seq2seq_gradcheck():
    model = tiny_seq2seq().double()
    rng = np.random.default_rng(1)
    src = rng.integers(1, V, size=(B, 4))
    src[1, -1] = PAD
    tgt_in, tgt_out = rng.integers(1, V, size=(B, 3)), rng.integers(1, V + 1, size=(B, 3))
    tgt_out[0, -1] = PAD
    gradcheck_parameters(model, ["src_embedding.weight", "transformer.decoder.layers.0.multihead_attn.in_proj_weight",
                                 "generator.weight"], lambda: model.loss(src, tgt_in, tgt_out))


BOS, EOS = 1, 2


def copy_batch(rng, batch):
    """Copy task: src = digits [EOS], target = the same digits; digits are ids 3..6, lengths 1-4."""
    lengths = rng.integers(1, 5, size=batch)
    src, tgt_in, tgt_out = (np.zeros((batch, 5), dtype=np.int64) for _ in range(3))
    for row, n in enumerate(lengths):
        digits = rng.integers(3, 7, size=n)
        src[row, :n + 1] = [*digits, EOS]
        tgt_in[row, :n + 1] = [BOS, *digits]
        tgt_out[row, :n + 1] = [*digits, EOS]
    return src, tgt_in, tgt_out


@pytest.fixture(scope="module")
def copier():
    minidl.manual_seed(0)
    model = Seq2SeqTransformer(7, 7, d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                               dim_feedforward=64, dropout=0.0, max_len=8, pad_id=PAD)
    optimizer = minidl.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(250):
        optimizer.zero_grad()
        model.loss(*copy_batch(rng, 32)).backward()
        optimizer.step()
    return model


def test_greedy_decode_on_a_trained_copier(copier):
    src, _, tgt_out = copy_batch(np.random.default_rng(1), 64)
    decoded = copier.greedy_decode(src, 8, BOS, EOS)
    assert decoded.shape[1] <= 6 and (decoded[:, 0] == BOS).all(), "stops once every row has its [EOS]"
    width = min(decoded.shape[1] - 1, tgt_out.shape[1])
    exact = (decoded[:, 1:1 + width] == tgt_out[:, :width]).all(axis=1)
    assert exact.mean() >= 0.9
    for row in decoded:  # after [EOS] only [PAD]
        ends = np.flatnonzero(row == EOS)
        assert ends.size and (row[ends[0] + 1:] == PAD).all()
    one_by_one = [copier.greedy_decode(src[i:i + 1], 8, BOS, EOS)[0] for i in range(4)]
    for i, row in enumerate(one_by_one):
        np.testing.assert_array_equal(decoded[i, :len(row)], row)
    assert copier.training is True


def test_greedy_decode_respects_max_len(copier):
    src, _, _ = copy_batch(np.random.default_rng(2), 4)
    assert copier.greedy_decode(src, 2, BOS, EOS).shape == (4, 2)
    with pytest.raises(ValueError, match="max_len"):
        copier.greedy_decode(src, 0, BOS, EOS)


# --- devices ---------------------------------------------------------------------------------------------------

def test_models_run_on_the_strict_device():
    """Every array stays on the model's device ("strict" refuses implicit NumPy conversion, like CuPy)."""
    rng = np.random.default_rng(3)
    ids = bert_ids(rng)
    bert = tiny(MiniBERT, vocab_size=V, num_layers=1).to("strict")
    inputs, labels = mask_tokens(minidl.tensor(ids).to("strict"), TOKENIZER_SPEC, rng, mask_prob=0.6)
    bert.mlm_loss(inputs, labels).backward()
    assert bert.classify(ids).device == bert.token_embedding.weight.grad.device == inputs.device
    gpt = tiny(MiniGPT, vocab_size=V, num_layers=1).to("strict")
    gpt.loss(ids).backward()
    assert gpt.generate([3, 4], 4, top_k=3, rng=0).shape == (6,)
    seq = tiny_seq2seq().to("strict")
    seq.loss(ids, ids, ids).backward()
    assert seq.greedy_decode(ids, 4, BOS, EOS).shape[0] == B
