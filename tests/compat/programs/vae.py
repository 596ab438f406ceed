# The shape of PyTorch's VAE example: a Linear encoder to mu and logvar, the reparameterisation
# trick, a sigmoid decoder, binary cross-entropy plus KL divergence summed over the batch, Adam,
# a test pass under no_grad, decoding of samples from the prior, and torch.cat of a comparison.
# MNIST is replaced by random images in [0, 1], and the reparameterisation noise (torch.randn_like
# in the example) comes from a fixed NumPy array, so that every run draws the same noise.
# (initial_weights and work_folder are given by tests/compat/program_runner.py; RESULT goes back)
import argparse
import os

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

parser = argparse.ArgumentParser(description='VAE MNIST Example')
parser.add_argument('--batch-size', type=int, default=32)
parser.add_argument('--epochs', type=int, default=3)
parser.add_argument('--seed', type=int, default=1)
parser.add_argument('--log-interval', type=int, default=2)
args = parser.parse_args([])
torch.manual_seed(args.seed)
device = torch.device("cpu")

rng = np.random.default_rng(0)
images = rng.random((96, 1, 28, 28)).astype(np.float32)
noise = rng.standard_normal((1000, 20)).astype(np.float32)  # the reparameterisation noise, in turn
train_set = torch.utils.data.TensorDataset(torch.from_numpy(images[:64]), torch.zeros(64))
test_set = torch.utils.data.TensorDataset(torch.from_numpy(images[64:]), torch.zeros(32))
train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=False)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.batch_size, shuffle=False)


class FixedNoise:
    """Gives standard normal noise shaped like a tensor, read in turn from a fixed array."""

    def __init__(self, array):
        self.array, self.position = array, 0

    def like(self, std):
        rows = std.size(0)
        eps = torch.from_numpy(self.array[self.position:self.position + rows])
        self.position += rows
        return eps.to(std.device)


class VAE(nn.Module):
    def __init__(self, noise_source):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc21 = nn.Linear(64, 20)
        self.fc22 = nn.Linear(64, 20)
        self.fc3 = nn.Linear(20, 64)
        self.fc4 = nn.Linear(64, 784)
        self.noise_source = noise_source

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = self.noise_source.like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


noise_source = FixedNoise(noise)
model = VAE(noise_source).to(device)
if initial_weights is not None:
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights.items()})
optimizer = optim.Adam(model.parameters(), lr=1e-3)


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def train(epoch, losses):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        losses.append(loss.item() / len(data))
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item() / len(data)))
    print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, train_loss / len(train_loader.dataset)))


def test(epoch):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data, _) in enumerate(test_loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(args.batch_size, 1, 28, 28)[:n]])
                torch.save(comparison, os.path.join(work_folder, 'reconstruction_' + str(epoch) + '.pt'))
    test_loss /= len(test_loader.dataset)
    print('====> Test set loss: {:.4f}'.format(test_loss))
    return test_loss


losses, evaluations = [], []
for epoch in range(1, args.epochs + 1):
    train(epoch, losses)
    evaluations.append(test(epoch))
    with torch.no_grad():
        sample = torch.from_numpy(noise[-64:]).to(device)
        sample = model.decode(sample).cpu()
        evaluations.append(sample.view(64, 1, 28, 28).mean().item())
RESULT = losses, evaluations, {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
