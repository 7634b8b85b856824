#!/usr/bin/python3
"""The cosmic-ray mask that astroscrappy (Debian's python3-astroscrappy) finds in a FITS
image, for comparison with ours:

    astroscrappy_mask.py IN.fits OUT.fits GAIN READNOISE SATLEVEL [SIGCLIP SIGFRAC OBJLIM NITER [BADPIX.fits]]

Writes the mask (uint8, 1 = cosmic ray) to OUT.fits and prints the seconds detect_cosmics took.
"""
import sys
import time

import numpy as np
from astropy.io import fits
import astroscrappy

args = sys.argv[1:]
data = fits.getdata(args[0]).astype(np.float32)
gain, readnoise, satlevel = float(args[2]), float(args[3]), float(args[4])
sigclip, sigfrac, objlim, niter = 4.5, 0.3, 5.0, 4
if len(args) >= 9:
    sigclip, sigfrac, objlim, niter = float(args[5]), float(args[6]), float(args[7]), int(args[8])
inmask = None
if len(args) >= 10:
    inmask = fits.getdata(args[9]).astype(bool)
start = time.perf_counter()
mask, _ = astroscrappy.detect_cosmics(data, inmask=inmask, gain=gain, readnoise=readnoise, satlevel=satlevel,
                                      sigclip=sigclip, sigfrac=sigfrac, objlim=objlim, niter=niter,
                                      sepmed=True, cleantype='meanmask', fsmode='median')
seconds = time.perf_counter() - start
fits.PrimaryHDU(mask.astype(np.uint8)).writeto(args[1], overwrite=True)
print(f"{seconds:.4f}")
