#!/usr/bin/env python3
"""Writes tests/FaceNetSharp.Tests/Imaging/Data/opencv_resize_cases.json: what OpenCV's cv2.resize(INTER_AREA)
returns for the element types and size changes facenet's MTCNN makes (uint8 pyramid levels; float64 zero-padded crops
resized to 24 or 48), so that OpenCvResizeTests can check the C# transcription bit for bit without OpenCV.

Run with Debian's python3-opencv (OpenCV 4.6) and numpy: /usr/bin/python3 scripts/opencv-resize-cases.py [--full] [OUT]
Sources are not stored: both sides generate them with the same integer hash (see Source())."""
import base64, hashlib, json, os, sys
import cv2
import numpy as np


def source(w, h, seed, zero_border):
    # Deterministic 0..255 values: v = ((i * 2654435761 + seed * 97) mod 2^32) >> 13 & 255, i the flat HxWx3 index.
    # zero_border: columns/rows within that many pixels of the left/top edges are 0 (a crop that leaves the image).
    i = np.arange(h * w * 3, dtype=np.uint64)
    v = ((i * np.uint64(2654435761) + np.uint64(seed * 97)) & np.uint64(0xFFFFFFFF)) >> np.uint64(13) & np.uint64(255)
    img = v.astype(np.uint8).reshape(h, w, 3)
    if zero_border:
        img[:zero_border, :, :] = 0
        img[:, :zero_border, :] = 0
    return img


U8 = [  # (src w, h) -> (dst w, h): pyramid levels (always shrinking) and the fast integer factors
    ((125, 97), (75, 58)), ((64, 48), (32, 24)), ((90, 60), (30, 20)), ((100, 80), (25, 20)),
    ((37, 23), (22, 14)), ((80, 60), (40, 20)), ((13, 7), (5, 3)), ((120, 80), (86, 57)),
    ((51, 50), (51, 25)), ((150, 100), (29, 19)), ((41, 41), (14, 14)), ((99, 66), (33, 22)),
]
F64 = [  # crops (possibly not square, possibly smaller than the net's input) -> 24x24 or 48x48
    ((30, 31), (24, 24)), ((48, 48), (24, 24)), ((72, 72), (24, 24)), ((20, 26), (24, 24)),
    ((10, 10), (24, 24)), ((23, 23), (24, 24)), ((24, 17), (24, 24)), ((2, 3), (24, 24)),
    ((25, 24), (24, 24)), ((240, 240), (24, 24)), ((61, 60), (24, 24)), ((100, 100), (48, 48)),
    ((35, 35), (48, 48)), ((1, 1), (24, 24)),
]


def main():
    full = "--full" in sys.argv  # also store float64 results whole (for debugging; the committed file is without)
    out = {"how": "cv2.resize(src, (dw, dh), interpolation=cv2.INTER_AREA), OpenCV " + cv2.__version__ +
                  "; src from source() in scripts/opencv-resize-cases.py; dst raw little-endian bytes (uint8 or float64)",
           "cases": []}
    seed = 1
    for dtype, cases in (("uint8", U8), ("float64", F64)):
        for (sw, sh), (dw, dh) in cases:
            zero = 3 if dtype == "float64" and sw > 8 and sh > 8 else 0
            src = source(sw, sh, seed, zero)
            if dtype == "float64":
                src = src.astype(np.float64)
            dst = cv2.resize(src, (dw, dh), interpolation=cv2.INTER_AREA)
            assert dst.dtype == src.dtype and dst.shape == (dh, dw, 3)
            raw = np.ascontiguousarray(dst).astype("<" + dst.dtype.str[1:]).tobytes()
            case = {"type": dtype, "src": [sw, sh], "seed": seed, "zeroBorder": zero, "dst": [dw, dh],
                    "sha256": hashlib.sha256(raw).hexdigest()}
            # uint8 results are stored whole; float64 ones (8 bytes a value) by hash and their first row, unless --full
            if dtype == "uint8" or full:
                case["data"] = base64.b64encode(raw).decode()
            else:
                case["firstRow"] = [float(v) for v in dst[0].ravel()]
            out["cases"].append(case)
            seed += 1
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "FaceNetSharp.Tests", "Imaging", "Data", "opencv_resize_cases.json")
    if len(sys.argv) > 1 and not sys.argv[-1].startswith("--"):
        path = sys.argv[-1]
    with open(path, "w") as f:
        json.dump(out, f, indent=0, separators=(',', ':'))
    print(f"{len(out['cases'])} cases -> {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
