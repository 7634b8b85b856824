#!/usr/bin/python3
"""SCAMP (Debian's scamp) on the detections and reference stars that bench_reduction
astrometry wrote, and both solutions judged the same way:

    scamp_astrometry.py DIR RUNS

DIR holds ccdNN.csv (x, y, flux, flux_err, flags, sigma: FITS pixels), ccdNN.wcs (the header
WCS each CCD starts from), ccdNN.size (its width and height), refs.csv (ra, dec, mag at the epoch of the exposure: in the
simulation, where the stars truly are) and ours_ccdNN.wcs (our solution). The detections
become one FITS_LDAC catalogue (an LDAC_IMHEAD and LDAC_OBJECTS pair per CCD, as
source-extractor writes them) and the references an LDAC reference catalogue; SCAMP solves
with a linear distortion model (the simulated focal plane has no distortion), the mosaic
kept as the headers place it. RUNS timed runs (one thread); then, for each solution, the
rms distance between the bright detections (S/N over 50, no flags) placed by it and their
reference stars, and how many it matched within 1".
"""
import csv
import glob
import os
import subprocess
import sys
import time

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

d, runs = sys.argv[1], int(sys.argv[2])
ccds = sorted(int(os.path.basename(p)[3:5]) for p in glob.glob(os.path.join(d, "ccd??.csv")))


def table(path):
    rows = list(csv.DictReader(open(path)))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]} if rows else {}


def header_of(text):
    """FITS cards as bench_reduction writes them: 80-character cards, with or without newlines."""
    cards = [line for line in text.split("\n") if line.strip()] if "\n" in text.strip() else \
        [text[i:i + 80] for i in range(0, len(text), 80)]
    cards = [c.ljust(80) for c in cards if c.strip() and not c.startswith("END ") and c.strip() != "END"]
    return fits.Header.fromstring("".join(cards) + "END".ljust(80))


def ldac_imhead(header):
    card = header.tostring(endcard=True)
    col = fits.Column(name="Field Header Card", format=f"{len(card)}A", array=np.array([card]))
    h = fits.BinTableHDU.from_columns([col])
    h.header["EXTNAME"] = "LDAC_IMHEAD"
    h.header["TDIM1"] = f"(80, {len(card) // 80})"
    return h


hdus = [fits.PrimaryHDU()]
det, size = {}, {}
for ccd in ccds:
    t = table(os.path.join(d, f"ccd{ccd:02d}.csv"))
    det[ccd] = t
    size[ccd] = [int(v) for v in open(os.path.join(d, f"ccd{ccd:02d}.size")).read().split()]
    # An image header as source-extractor copies it: the mandatory keys first, then the WCS.
    head = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2), ("NAXIS1", size[ccd][0]),
                        ("NAXIS2", size[ccd][1])])
    head.extend(header_of(open(os.path.join(d, f"ccd{ccd:02d}.wcs")).read()).cards)
    head["FILTER"] = "NB615"
    head["EXPTIME"] = 100.0
    head["CCDNUM"] = ccd
    hdus.append(ldac_imhead(head))
    n = len(t.get("x", []))
    snr = np.where(t["flux_err"] > 0, t["flux"] / np.where(t["flux_err"] > 0, t["flux_err"], 1), 0)
    mag = np.where(t["flux"] > 0, -2.5 * np.log10(np.clip(t["flux"], 1e-9, None)) + 25, 99)
    cols = [
        fits.Column(name="NUMBER", format="J", array=np.arange(1, n + 1)),
        fits.Column(name="XWIN_IMAGE", format="D", array=t["x"]),
        fits.Column(name="YWIN_IMAGE", format="D", array=t["y"]),
        fits.Column(name="ERRAWIN_IMAGE", format="E", array=t["sigma"]),
        fits.Column(name="ERRBWIN_IMAGE", format="E", array=t["sigma"]),
        fits.Column(name="ERRTHETAWIN_IMAGE", format="E", array=np.zeros(n)),
        fits.Column(name="FLUX_AUTO", format="E", array=t["flux"]),
        fits.Column(name="FLUXERR_AUTO", format="E", array=t["flux_err"]),
        fits.Column(name="MAG_AUTO", format="E", array=mag),
        fits.Column(name="MAGERR_AUTO", format="E", array=np.where(snr > 0, 1.0857 / np.where(snr > 0, snr, 1), 99)),
        fits.Column(name="FLAGS", format="I", array=t["flags"].astype(np.int16)),
    ]
    o = fits.BinTableHDU.from_columns(cols)
    o.header["EXTNAME"] = "LDAC_OBJECTS"
    hdus.append(o)
fits.HDUList(hdus).writeto(os.path.join(d, "mosaic.cat"), overwrite=True)

refs = table(os.path.join(d, "refs.csv"))
nref = len(refs["ra"])
rh = fits.Header()
rh["NAXIS"] = 0
ref_cols = [
    fits.Column(name="X_WORLD", format="D", array=refs["ra"]),
    fits.Column(name="Y_WORLD", format="D", array=refs["dec"]),
    fits.Column(name="ERRA_WORLD", format="E", array=np.full(nref, 1e-5)),  # 0.036": the epoch's positions
    fits.Column(name="ERRB_WORLD", format="E", array=np.full(nref, 1e-5)),
    fits.Column(name="MAG", format="E", array=np.where(np.isfinite(refs["mag"]), refs["mag"], 20)),
    fits.Column(name="MAGERR", format="E", array=np.full(nref, 0.01)),
    fits.Column(name="OBSDATE", format="D", array=np.full(nref, 2000.0)),
]
ro = fits.BinTableHDU.from_columns(ref_cols)
ro.header["EXTNAME"] = "LDAC_OBJECTS"
fits.HDUList([fits.PrimaryHDU(), ldac_imhead(rh), ro]).writeto(os.path.join(d, "refs.cat"), overwrite=True)

cmd = ["taskset", "-c", "0", "scamp", "mosaic.cat", "-ASTREF_CATALOG", "FILE", "-ASTREFCAT_NAME", "refs.cat",
       "-DISTORT_DEGREES", "1", "-MOSAIC_TYPE", "UNCHANGED", "-SOLVE_PHOTOM", "N", "-CHECKPLOT_TYPE", "NONE",
       "-WRITE_XML", "N", "-NTHREADS", "1", "-POSITION_MAXERR", "1.5", "-VERBOSE_TYPE", "QUIET",
       "-SN_THRESHOLDS", "10,100"]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - start)
print(f"scamp: {np.median(times):.3f} s (median of {runs}, one thread, reading the catalogues included)")

blocks = open(os.path.join(d, "mosaic.head")).read().split("END" + " " * 77)
scamp_wcs = {}
for ccd, block in zip(ccds, blocks):
    h = fits.Header.fromstring("".join(line.ljust(80) for line in block.strip("\n").split("\n")) if "\n" in block else block)
    h["NAXIS"], (h["NAXIS1"], h["NAXIS2"]) = 2, size[ccd]
    scamp_wcs[ccd] = WCS(h)


def judge(wcs_of):
    sep2, n = [], 0
    ref_xyz = np.stack([np.cos(np.radians(refs["dec"])) * np.cos(np.radians(refs["ra"])),
                        np.cos(np.radians(refs["dec"])) * np.sin(np.radians(refs["ra"])), np.sin(np.radians(refs["dec"]))], 1)
    for ccd in ccds:
        t = det[ccd]
        good = (t["flags"] == 0) & (t["flux_err"] > 0) & (t["flux"] / np.where(t["flux_err"] > 0, t["flux_err"], 1) > 50)
        ra, dec = wcs_of(ccd).all_pix2world(t["x"][good], t["y"][good], 1)
        xyz = np.stack([np.cos(np.radians(dec)) * np.cos(np.radians(ra)), np.cos(np.radians(dec)) * np.sin(np.radians(ra)),
                        np.sin(np.radians(dec))], 1)
        for v in xyz:
            dist = np.degrees(np.arccos(np.clip(ref_xyz @ v, -1, 1))) * 3600
            k = np.argmin(dist)
            if dist[k] < 1:
                sep2.append(dist[k] ** 2)
    return np.sqrt(np.mean(sep2)), len(sep2)


ours = {ccd: WCS(header_of(open(os.path.join(d, f"ours_ccd{ccd:02d}.wcs")).read())) for ccd in ccds}
r_ours, n_ours = judge(lambda c: ours[c])
r_scamp, n_scamp = judge(lambda c: scamp_wcs[c])
print(f"residuals of the bright stars against their true positions: ours {r_ours:.4f}\" rms ({n_ours} stars), "
      f"scamp {r_scamp:.4f}\" rms ({n_scamp} stars)")
