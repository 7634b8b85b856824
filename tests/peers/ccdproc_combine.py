#!/usr/bin/python3
"""ccdproc.combine (Debian's python3-ccdproc) of FITS frames, for comparison with ours:

    ccdproc_combine.py OUT.fits METHOD IN1.fits IN2.fits ...

METHOD is 'average' or 'median'; sigma clipping as ccdproc does it by default
(3 / 3, centre ma.mean, deviation ma.std, one pass). Prints the seconds it took,
reading the files included.
"""
import sys
import time

import numpy as np
from astropy.io import fits
import ccdproc

out, method, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.perf_counter()
combined = ccdproc.combine(inputs, unit='adu', method=method, sigma_clip=True, sigma_clip_low_thresh=3,
                           sigma_clip_high_thresh=3, sigma_clip_func=np.ma.mean,
                           sigma_clip_dev_func=np.ma.std, mem_limit=16e9)
seconds = time.perf_counter() - start
fits.PrimaryHDU(np.asarray(combined.data, dtype=np.float64)).writeto(out, overwrite=True)
print(f"{seconds:.4f}")
