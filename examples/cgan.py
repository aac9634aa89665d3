"""A conditional GAN (Mirza & Osindero 2014) as in PyTorch-GAN's ``cgan.py``: both networks
see the digit's class through an ``nn.Embedding``; least-squares loss (``nn.MSELoss``).

Runs under PyTorch or tinygan: the first line is the only difference
(``import torch`` ⇄ ``import tinygan as torch``).
    python examples/cgan.py --n_epochs 1 --max_steps 500
"""
import tinygan as torch

import argparse
import os

import numpy as np

from _data import mnist_loader, save_grid, share_weights

nn = torch.nn

parser = argparse.ArgumentParser()
parser.add_argument("--n_epochs", type=int, default=200, help="number of epochs of training")
parser.add_argument("--batch_size", type=int, default=64, help="size of the batches")
parser.add_argument("--lr", type=float, default=0.0002, help="adam: learning rate")
parser.add_argument("--b1", type=float, default=0.5, help="adam: decay of first order momentum")
parser.add_argument("--b2", type=float, default=0.999, help="adam: decay of second order momentum")
parser.add_argument("--latent_dim", type=int, default=100, help="dimensionality of the latent space")
parser.add_argument("--n_classes", type=int, default=10, help="number of classes for dataset")
parser.add_argument("--img_size", type=int, default=28, help="size of each image dimension")
parser.add_argument("--channels", type=int, default=1, help="number of image channels")
parser.add_argument("--hidden", type=int, default=128, help="width of the first hidden layer")
parser.add_argument("--dropout", type=float, default=0.4, help="dropout in the discriminator")
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
        self.label_emb = nn.Embedding(opt.n_classes, opt.n_classes)

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        h = opt.hidden
        self.model = nn.Sequential(
            *block(opt.latent_dim + opt.n_classes, h, normalize=False),
            *block(h, 2 * h),
            *block(2 * h, 4 * h),
            *block(4 * h, 8 * h),
            nn.Linear(8 * h, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, noise, labels):
        # Concatenate label embedding and image to produce input
        gen_input = torch.cat((self.label_emb(labels), noise), -1)
        img = self.model(gen_input)
        img = img.view(img.size(0), *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.label_embedding = nn.Embedding(opt.n_classes, opt.n_classes)
        h = opt.hidden
        self.model = nn.Sequential(
            nn.Linear(opt.n_classes + int(np.prod(img_shape)), 4 * h),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(4 * h, 4 * h),
            nn.Dropout(opt.dropout),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(4 * h, 4 * h),
            nn.Dropout(opt.dropout),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(4 * h, 1),
        )

    def forward(self, img, labels):
        # Concatenate label embedding and image to produce input
        d_in = torch.cat((img.view(img.size(0), -1), self.label_embedding(labels)), -1)
        validity = self.model(d_in)
        return validity


adversarial_loss = torch.nn.MSELoss()
generator = Generator().to(device)
discriminator = Discriminator().to(device)
share_weights(torch, opt.init, G=generator, D=discriminator)
dataloader = mnist_loader(torch, opt.batch_size, opt.img_size, n=opt.n_data)
optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))


def sample_image(n_row, batches_done):
    """Saves a grid of generated digits ranging from 0 to n_classes"""
    z = torch.randn(n_row ** 2, opt.latent_dim, device=device)
    labels = torch.arange(n_row, device=device).repeat(n_row)  # rows 0..n_row-1
    with torch.no_grad():
        gen_imgs = generator(z, labels)
    save_grid(gen_imgs, os.path.join(opt.out, "%d.png" % batches_done), nrow=n_row)


batches_done = 0
for epoch in range(opt.n_epochs):
    for i, (imgs, labels) in enumerate(dataloader):
        batch_size = imgs.shape[0]
        valid = torch.ones(batch_size, 1, device=device)
        fake = torch.zeros(batch_size, 1, device=device)
        real_imgs = imgs.to(device)
        labels = labels.to(device)

        # -----------------  Train Generator
        optimizer_G.zero_grad()
        z = torch.randn(batch_size, opt.latent_dim, device=device)
        gen_labels = torch.randint(0, opt.n_classes, (batch_size,), device=device)
        gen_imgs = generator(z, gen_labels)
        validity = discriminator(gen_imgs, gen_labels)
        g_loss = adversarial_loss(validity, valid)
        g_loss.backward()
        optimizer_G.step()

        # ---------------------  Train Discriminator
        optimizer_D.zero_grad()
        validity_real = discriminator(real_imgs, labels)
        d_real_loss = adversarial_loss(validity_real, valid)
        validity_fake = discriminator(gen_imgs.detach(), gen_labels)
        d_fake_loss = adversarial_loss(validity_fake, fake)
        d_loss = (d_real_loss + d_fake_loss) / 2
        d_loss.backward()
        optimizer_D.step()

        print("[Epoch %d/%d] [Batch %d/%d] [D loss: %.6f] [G loss: %.6f]"
              % (epoch, opt.n_epochs, i, len(dataloader), d_loss.item(), g_loss.item()))
        if batches_done % opt.sample_interval == 0:
            sample_image(n_row=opt.n_classes, batches_done=batches_done)
        batches_done += 1
        if opt.max_steps and batches_done >= opt.max_steps:
            break
    if opt.max_steps and batches_done >= opt.max_steps:
        break
