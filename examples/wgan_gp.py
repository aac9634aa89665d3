"""WGAN-GP (Gulrajani et al. 2017) as in PyTorch-GAN's ``wgan_gp.py``, on MNIST digits.

Runs under PyTorch or tinygan: the first line is the only difference
(``import torch`` ⇄ ``import tinygan as torch``).  The penalty is Algorithm 1's
λ·(‖∇_x̂ D(x̂)‖₂ − 1)² at random interpolates x̂, through ``autograd.grad(...)[0]``.
    python examples/wgan_gp.py --n_epochs 1 --max_steps 500
"""
import tinygan as torch

import argparse
import os

import numpy as np

from _data import mnist_loader, save_grid, share_weights

nn = torch.nn
autograd = torch.autograd

parser = argparse.ArgumentParser()
parser.add_argument("--n_epochs", type=int, default=200, help="number of epochs of training")
parser.add_argument("--batch_size", type=int, default=64, help="size of the batches")
parser.add_argument("--lr", type=float, default=0.0002, help="adam: learning rate")
parser.add_argument("--b1", type=float, default=0.5, help="adam: decay of first order momentum")
parser.add_argument("--b2", type=float, default=0.999, help="adam: decay of second order momentum")
parser.add_argument("--latent_dim", type=int, default=100, help="dimensionality of the latent space")
parser.add_argument("--img_size", type=int, default=28, help="size of each image dimension")
parser.add_argument("--channels", type=int, default=1, help="number of image channels")
parser.add_argument("--hidden", type=int, default=128, help="width of the first hidden layer")
parser.add_argument("--n_critic", type=int, default=5, help="critic steps per generator step")
parser.add_argument("--lambda_gp", type=float, default=10.0, help="gradient penalty weight")
parser.add_argument("--sample_interval", type=int, default=400, help="interval between samples")
parser.add_argument("--max_steps", type=int, default=None, help="stop after this many batches")
parser.add_argument("--n_data", type=int, default=None, help="use only this many images")
parser.add_argument("--out", default="images", help="folder for the sample grids")
parser.add_argument("--init", default=None, help="weights file to load (or to create)")
opt = parser.parse_args()
print(opt)

img_shape = (opt.channels, opt.img_size, opt.img_size)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        h = opt.hidden
        self.model = nn.Sequential(
            *block(opt.latent_dim, h, normalize=False),
            *block(h, 2 * h),
            *block(2 * h, 4 * h),
            *block(4 * h, 8 * h),
            nn.Linear(8 * h, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        img = img.view(img.shape[0], *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        h = opt.hidden
        # no batch norm in the critic: the penalty is per sample (WGAN-GP §4)
        self.model = nn.Sequential(
            nn.Linear(int(np.prod(img_shape)), 4 * h),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(4 * h, 2 * h),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(2 * h, 1),
        )

    def forward(self, img):
        img_flat = img.view(img.shape[0], -1)
        validity = self.model(img_flat)
        return validity


generator = Generator().to(device)
discriminator = Discriminator().to(device)
share_weights(torch, opt.init, G=generator, D=discriminator)
dataloader = mnist_loader(torch, opt.batch_size, opt.img_size, n=opt.n_data)
optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))


def compute_gradient_penalty(D, real_samples, fake_samples):
    """Calculates the gradient penalty loss for WGAN GP"""
    # Random weight term for interpolation between real and fake samples
    alpha = torch.rand(real_samples.size(0), 1, 1, 1, device=device)
    # Get random interpolation between real and fake samples
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = D(interpolates)
    fake = torch.ones(real_samples.shape[0], 1, device=device)
    # Get gradient w.r.t. interpolates
    gradients = autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=fake,
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
    return gradient_penalty


batches_done = 0
steps = 0
for epoch in range(opt.n_epochs):
    for i, (imgs, _) in enumerate(dataloader):
        real_imgs = imgs.to(device)

        # ---------------------  Train Discriminator
        optimizer_D.zero_grad()
        z = torch.randn(imgs.shape[0], opt.latent_dim, device=device)
        fake_imgs = generator(z)
        real_validity = discriminator(real_imgs)
        fake_validity = discriminator(fake_imgs.detach())
        gradient_penalty = compute_gradient_penalty(discriminator, real_imgs, fake_imgs.detach())
        d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) \
            + opt.lambda_gp * gradient_penalty
        d_loss.backward()
        optimizer_D.step()

        optimizer_G.zero_grad()
        # Train the generator every n_critic steps
        if i % opt.n_critic == 0:
            # -----------------  Train Generator
            fake_imgs = generator(z)
            fake_validity = discriminator(fake_imgs)
            g_loss = -torch.mean(fake_validity)
            g_loss.backward()
            optimizer_G.step()

            print("[Epoch %d/%d] [Batch %d/%d] [D loss: %.6f] [G loss: %.6f]"
                  % (epoch, opt.n_epochs, i, len(dataloader), d_loss.item(), g_loss.item()))
            if batches_done % opt.sample_interval == 0:
                save_grid(fake_imgs[:25], os.path.join(opt.out, "%d.png" % batches_done), nrow=5)
            batches_done += opt.n_critic
        steps += 1
        if opt.max_steps and steps >= opt.max_steps:
            break
    if opt.max_steps and steps >= opt.max_steps:
        break
