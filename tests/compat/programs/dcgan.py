# The shape of PyTorch's DCGAN example: a generator of ConvTranspose2d, BatchNorm2d and
# nn.ReLU(True) layers, a discriminator of Conv2d, BatchNorm2d and nn.LeakyReLU(0.2, inplace=True)
# layers, weights_init through Module.apply, BCELoss with labels from torch.full and label.fill_,
# two Adam optimizers with betas, fake.detach() for the discriminator step, and checkpoints.
# The image dataset is replaced by random images in [-1, 1], and the noise (torch.randn in the
# example) comes from a fixed NumPy array, so that every run draws the same noise.
# (initial_weights and work_folder are given by tests/compat/program_runner.py; RESULT goes back)
import argparse
import os
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.parallel
import torch.optim as optim
import torch.utils.data

parser = argparse.ArgumentParser()
parser.add_argument('--batchSize', type=int, default=8)
parser.add_argument('--nz', type=int, default=16)
parser.add_argument('--ngf', type=int, default=8)
parser.add_argument('--ndf', type=int, default=8)
parser.add_argument('--niter', type=int, default=2)
parser.add_argument('--lr', type=float, default=0.0002)
parser.add_argument('--beta1', type=float, default=0.5)
parser.add_argument('--ngpu', type=int, default=1)
parser.add_argument('--manualSeed', type=int, default=999)
opt = parser.parse_args([])
random.seed(opt.manualSeed)
torch.manual_seed(opt.manualSeed)
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
ngpu, nz, ngf, ndf, nc = opt.ngpu, opt.nz, opt.ngf, opt.ndf, 3

rng = np.random.default_rng(0)
images = rng.uniform(-1, 1, (32, nc, 16, 16)).astype(np.float32)
noise_bank = rng.standard_normal((200, nz, 1, 1)).astype(np.float32)
dataset = torch.utils.data.TensorDataset(torch.from_numpy(images))
dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize, shuffle=False)


# custom weights initialization called on netG and netD
def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, ngpu):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 4 x 4
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 8 x 8
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 16 x 16
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super(Discriminator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is (nc) x 16 x 16
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 8 x 8
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 4 x 4
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


netG = Generator(ngpu).to(device)
netG.apply(weights_init)
netD = Discriminator(ngpu).to(device)
netD.apply(weights_init)
if initial_weights is not None:
    for prefix, net in (("G.", netG), ("D.", netD)):
        net.load_state_dict({k[2:]: torch.tensor(v) for k, v in initial_weights.items() if k.startswith(prefix)})
print(netG)
print(netD)

criterion = nn.BCELoss()
fixed_noise = torch.from_numpy(noise_bank[:8]).to(device)
real_label = 1
fake_label = 0
optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

losses, evaluations, drawn = [], [], 8
for epoch in range(opt.niter):
    for i, data in enumerate(dataloader, 0):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        # train with real
        netD.zero_grad()
        real_cpu = data[0].to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        # train with fake
        noise = torch.from_numpy(noise_bank[drawn:drawn + batch_size]).to(device)
        drawn += batch_size
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        losses += [errD.item(), errG.item()]

        print('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
              % (epoch, opt.niter, i, len(dataloader), errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
    fake = netG(fixed_noise)
    evaluations += [fake.detach().mean().item(), fake.detach().std().item()]
    # do checkpointing
    torch.save(netG.state_dict(), os.path.join(work_folder, 'netG_epoch_%d.pth' % (epoch)))
    torch.save(netD.state_dict(), os.path.join(work_folder, 'netD_epoch_%d.pth' % (epoch)))

weights = {"G." + k: v.detach().cpu().numpy() for k, v in netG.state_dict().items()}
weights.update({"D." + k: v.detach().cpu().numpy() for k, v in netD.state_dict().items()})
RESULT = losses, evaluations, weights
