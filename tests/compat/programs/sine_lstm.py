# The shape of PyTorch's time-sequence-prediction example: two stacked nn.LSTMCell layers and a
# Linear head in double precision, unrolled over input.split(1, dim=1) and fed their own output to
# predict the future, trained with LBFGS through a closure on MSELoss, tested under no_grad.
# The sine-wave data file of the example is generated in place with NumPy, as its generator does.
# (initial_weights and work_folder are given by tests/compat/program_runner.py; RESULT goes back)
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 16)
        self.lstm2 = nn.LSTMCell(16, 16)
        self.linear = nn.Linear(16, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 16, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 16, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 16, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 16, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):  # if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


parser = argparse.ArgumentParser()
parser.add_argument('--steps', type=int, default=4, help='steps to run')
opt = parser.parse_args([])
# set random seed to 0
np.random.seed(0)
torch.manual_seed(0)
# load data and make training set (the example's generate_sine_wave.py, smaller)
T, L, N = 20, 30, 8
x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')
torch.save(data, open(os.path.join(work_folder, 'traindata.pt'), 'wb'))
data = torch.load(os.path.join(work_folder, 'traindata.pt'), weights_only=False)
input = torch.from_numpy(data[3:, :-1])
target = torch.from_numpy(data[3:, 1:])
test_input = torch.from_numpy(data[:3, :-1])
test_target = torch.from_numpy(data[:3, 1:])
# build the model
seq = Sequence()
seq.double()
if initial_weights is not None:
    seq.load_state_dict({k: torch.tensor(v) for k, v in initial_weights.items()})
criterion = nn.MSELoss()
# use LBFGS as optimizer since we can load the whole data to train
optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=5)
losses, evaluations = [], []
# begin to train
for i in range(opt.steps):
    print('STEP: ', i)

    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        print('loss:', loss.item())
        losses.append(loss.item())
        loss.backward()
        return loss
    optimizer.step(closure)
    # begin to predict, no need to track gradient here
    with torch.no_grad():
        future = 10
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        print('test loss:', loss.item())
        evaluations.append(loss.item())
        y = pred.detach().numpy()
    evaluations.append(float(np.abs(y[:, -future:]).mean()))
RESULT = losses, evaluations, {k: v.detach().cpu().numpy() for k, v in seq.state_dict().items()}
