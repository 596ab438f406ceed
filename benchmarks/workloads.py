"""The benchmark workloads, written once for any framework with PyTorch's API.

``fw`` is the framework module: ``minidl`` or ``torch``. minidl mirrors
PyTorch's names (``fw.nn.Linear``, ``fw.optim.SGD``, ``fw.nn.functional``), so
the very same code builds both models, which keeps the comparison honest. ``device``
("cpu" or "cuda") is where the model and the data live.
"""


def build(name, data, fw, device="cpu"):
    """A function that runs one timed step (and returns the loss for training workloads)."""
    F = fw.nn.functional
    data = {key: fw.from_numpy(value).to(device) for key, value in data.items()}
    if name == "M":
        fw.manual_seed(0)
        nn = fw.nn
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        model.to(device)
        optimizer = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        return training_step(optimizer, lambda: F.cross_entropy(model(data["x"]), data["y"]))
    if name == "C":
        fw.manual_seed(0)
        nn = fw.nn
        model = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(4096, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
        optimizer = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        return training_step(optimizer, lambda: F.cross_entropy(model(data["x"]), data["y"]))
    if name == "T":
        return _transformer(data, fw, device)
    if name == "E":
        return _encoder_decoder(data, fw, device)
    inputs = {k: v.requires_grad_() for k, v in data.items() if k != "g"}
    g = data["g"]
    forward = {
        "matmul": lambda t: t["a"] @ t["b"],
        "conv2d": lambda t: F.conv2d(t["x"], t["w"], t["bias"], stride=1, padding=1),
        "softmax": lambda t: F.softmax(t["x"], dim=-1),
        "layernorm": lambda t: F.layer_norm(t["x"], (128,), t["weight"], t["bias"], eps=1e-5),
    }
    if name not in forward:
        raise KeyError(f"unknown workload {name!r}")
    return micro_step(list(inputs.values()), lambda: forward[name](inputs), g)


def _transformer(data, fw, device):
    """Workload T: token + learned position embeddings, 2 post-norm encoder layers, mean pool, linear head."""
    fw.manual_seed(0)
    nn, F = fw.nn, fw.nn.functional
    embedding = nn.Embedding(2000, 128).to(device)
    position = nn.Parameter(fw.randn(64, 128).to(device))
    layer = nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512, dropout=0.0, activation="relu",
                                       batch_first=True, norm_first=False)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).to(device)
    head = nn.Linear(128, 2).to(device)
    parameters = [*embedding.parameters(), position, *encoder.parameters(), *head.parameters()]
    optimizer = fw.optim.Adam(parameters, lr=1e-3)
    tokens, labels = data["tokens"], data["labels"]

    def loss():
        hidden = encoder(embedding(tokens) + position)
        return F.cross_entropy(head(hidden.mean(dim=1)), labels)
    return training_step(optimizer, loss)


def _encoder_decoder(data, fw, device):
    """Workload E: a sequence-to-sequence step. A shared token embedding (1000 x 128) feeds an
    nn.Transformer (d=128, 4 heads, 2 encoder and 2 decoder layers, feed-forward 512, no dropout,
    batch first) with a causal target mask; a vocabulary projection Linear(128, 1000) predicts
    each next target token (teacher forcing: input target[:, :-1], labels target[:, 1:]);
    cross-entropy over all 32 x 32 positions; Adam."""
    fw.manual_seed(0)
    nn, F = fw.nn, fw.nn.functional
    embedding = nn.Embedding(1000, 128).to(device)
    transformer = nn.Transformer(d_model=128, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                 dim_feedforward=512, dropout=0.0, batch_first=True).to(device)
    projection = nn.Linear(128, 1000).to(device)
    parameters = [*embedding.parameters(), *transformer.parameters(), *projection.parameters()]
    optimizer = fw.optim.Adam(parameters, lr=1e-3)
    source, target = data["source"], data["target"]
    inputs, labels = target[:, :-1], target[:, 1:].reshape(-1)
    causal = nn.Transformer.generate_square_subsequent_mask(inputs.shape[1]).to(device)

    def loss():
        hidden = transformer(embedding(source), embedding(inputs), tgt_mask=causal, tgt_is_causal=True)
        return F.cross_entropy(projection(hidden).reshape(-1, 1000), labels)
    return training_step(optimizer, loss)


def training_step(optimizer, compute_loss):
    """Zero grads, forward, loss, backward, optimizer step; returns the loss as a float."""
    def step():
        optimizer.zero_grad()
        loss = compute_loss()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def micro_step(inputs, forward, g):
    """Clear the input grads, forward, backward with the upstream gradient g."""
    def step():
        for tensor in inputs:
            tensor.grad = None
        forward().backward(g)
    return step
