"""WGAN-GP on the 2-D "8 Gaussians" as in the reference code's ``gan_toy.py``
(Gulrajani et al. 2017, Algorithm 1, PyTorch port): ReLU MLPs, Adam(1e-4, β=(0.5, 0.9)),
5 critic iterations per generator iteration, λ = 0.1, the critic maximising
D(real) − D(fake) through ``backward(mone)`` / ``backward(one)``.

Runs under PyTorch or tinygan: the first line is the only difference
(``import torch`` ⇄ ``import tinygan as torch``).
    python examples/wgan_gp_2d.py --iters 2000
"""
import tinygan as torch

import argparse

from _data import gaussians_8, share_weights

nn = torch.nn
optim = torch.optim
autograd = torch.autograd

parser = argparse.ArgumentParser()
parser.add_argument("--dim", type=int, default=512, help="model dimensionality")
parser.add_argument("--batch_size", type=int, default=256, help="batch size")
parser.add_argument("--critic_iters", type=int, default=5, help="critic iterations per G iteration")
parser.add_argument("--lambda_gp", type=float, default=0.1, help="gradient penalty weight")
parser.add_argument("--iters", type=int, default=100000, help="generator iterations")
parser.add_argument("--init", default=None, help="weights file to load (or to create)")
opt = parser.parse_args()
print(opt)

DIM, BATCH_SIZE, CRITIC_ITERS, LAMBDA = opt.dim, opt.batch_size, opt.critic_iters, opt.lambda_gp
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            nn.Linear(2, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, 2),
        )

    def forward(self, noise):
        return self.main(noise)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Linear(2, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, 1),
        )

    def forward(self, inputs):
        output = self.main(inputs)
        return output.view(-1)


def calc_gradient_penalty(netD, real_data, fake_data):
    alpha = torch.rand(BATCH_SIZE, 1, device=device)
    alpha = alpha.expand(real_data.size())
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates = interpolates.detach().requires_grad_(True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size(), device=device),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


netG = Generator().to(device)
netD = Discriminator().to(device)
share_weights(torch, opt.init, G=netG, D=netD)
print(netG)
print(netD)

optimizerD = optim.Adam(netD.parameters(), lr=1e-4, betas=(0.5, 0.9))
optimizerG = optim.Adam(netG.parameters(), lr=1e-4, betas=(0.5, 0.9))
one = torch.tensor(1.0)
mone = one * -1

data = gaussians_8(BATCH_SIZE)
for iteration in range(opt.iters):
    ############################
    # (1) Update D network
    ###########################
    for p in netD.parameters():  # reset requires_grad
        p.requires_grad = True   # they are set to False below in netG update

    for iter_d in range(CRITIC_ITERS):
        real_data = torch.from_numpy(next(data)).to(device)
        netD.zero_grad()

        # train with real
        D_real = netD(real_data)
        D_real = D_real.mean()
        D_real.backward(mone)

        # train with fake
        noise = torch.randn(BATCH_SIZE, 2, device=device)
        with torch.no_grad():
            fake = netG(noise)
        D_fake = netD(fake)
        D_fake = D_fake.mean()
        D_fake.backward(one)

        # train with gradient penalty
        gradient_penalty = calc_gradient_penalty(netD, real_data, fake)
        gradient_penalty.backward()

        D_cost = D_fake - D_real + gradient_penalty
        Wasserstein_D = D_real - D_fake
        optimizerD.step()

    ############################
    # (2) Update G network
    ###########################
    for p in netD.parameters():
        p.requires_grad = False  # to avoid computation
    netG.zero_grad()

    noise = torch.randn(BATCH_SIZE, 2, device=device)
    fake = netG(noise)
    G = netD(fake)
    G = G.mean()
    G.backward(mone)
    G_cost = -G
    optimizerG.step()

    print("[Iter %d] [D cost: %.6f] [G cost: %.6f] [Wasserstein: %.6f]"
          % (iteration, D_cost.item(), G_cost.item(), Wasserstein_D.item()))
