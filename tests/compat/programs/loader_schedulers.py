# The shape of a typical training script: a Dataset subclass with a transform, a DataLoader with a
# collate_fn, a model with BatchNorm1d and Dropout, SGD with Nesterov momentum and weight decay,
# OneCycleLR stepped per batch, ReduceLROnPlateau on the validation loss, a best-model state_dict
# copied with copy.deepcopy, and a training history kept with f-string formatting of 0-d tensors.
# (initial_weights and work_folder are given by tests/compat/program_runner.py; RESULT goes back)
import copy

import numpy as np
import torch
from torch import nn, optim
from torch.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau
from torch.utils.data import DataLoader, Dataset


class Blobs(Dataset):
    def __init__(self, n, seed, transform=None):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 3, n)
        centres = np.array([[2.0, 0.0, 0.0, 1.0], [0.0, 2.0, 0.0, -1.0], [0.0, 0.0, 2.0, 0.0]])
        self.features = (centres[self.labels] + rng.standard_normal((n, 4))).astype(np.float32)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        x = torch.from_numpy(self.features[idx])
        if self.transform:
            x = self.transform(x)
        return x, int(self.labels[idx])


def collate(batch):
    xs, ys = zip(*batch)
    return torch.stack(xs), torch.tensor(ys)


def scale(x):
    return x * 0.5


train_set, val_set = Blobs(96, 0, transform=scale), Blobs(48, 1, transform=scale)
train_loader = DataLoader(train_set, batch_size=16, shuffle=False, collate_fn=collate, drop_last=True)
val_loader = DataLoader(val_set, batch_size=32, collate_fn=collate)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, 3))
if initial_weights is not None:
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights.items()})
criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
epochs = 4
one_cycle = OneCycleLR(optimizer, max_lr=0.2, epochs=epochs, steps_per_epoch=len(train_loader))
plateau = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=0)

history, losses, best_loss, best_state = [], [], float("inf"), None
for epoch in range(epochs):
    model.train()
    for batch_idx, (inputs, targets) in enumerate(train_loader):
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        one_cycle.step()
        losses.append(loss.item())
    model.eval()
    val_loss, correct, total = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in val_loader:
            outputs = model(inputs)
            val_loss += criterion(outputs, targets).item() * inputs.size(0)
            _, predicted = outputs.max(1)
            total += targets.size(0)
            correct += predicted.eq(targets).sum().item()
    val_loss /= total
    plateau.step(val_loss)
    history.append(val_loss)
    print(f"epoch {epoch}: train loss {loss:.4f} val loss {val_loss:.4f} acc {100. * correct / total:.1f}% "
          f"lr {optimizer.param_groups[0]['lr']:.5f}")
    if val_loss < best_loss:
        best_loss, best_state = val_loss, copy.deepcopy(model.state_dict())

model.load_state_dict(best_state)
RESULT = losses, history, {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
