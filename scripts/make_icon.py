#!/usr/bin/env python3
"""Draws alphaction_demo/assets/icon.png, the window's icon: a person in a detection box with a label tab, the
picture the demo itself draws. Run again after changing it: `python scripts/make_icon.py`."""

from pathlib import Path

import cv2
import numpy as np

SIZE = 256
PURPLE, TEAL, WHITE = (170, 60, 140), (150, 160, 20), (255, 255, 255)  # BGR, the overlay's colours


def draw() -> np.ndarray:
    scale = 4  # draw large, then shrink: smooth edges without anti-aliasing tricks
    s = SIZE * scale
    image = np.zeros((s, s, 4), np.uint8)
    cv2.rectangle(image, (0, 0), (s - 1, s - 1), (60, 40, 30, 255), -1)
    colour = WHITE + (255,)
    cx = s // 2
    cv2.circle(image, (cx, int(s * 0.34)), int(s * 0.07), colour, -1, cv2.LINE_AA)  # head
    cv2.line(image, (cx, int(s * 0.42)), (cx, int(s * 0.64)), colour, int(s * 0.05), cv2.LINE_AA)  # body
    cv2.line(image, (cx, int(s * 0.47)), (int(s * 0.36), int(s * 0.58)), colour, int(s * 0.04), cv2.LINE_AA)
    cv2.line(image, (cx, int(s * 0.47)), (int(s * 0.66), int(s * 0.38)), colour, int(s * 0.04), cv2.LINE_AA)  # waving
    cv2.line(image, (cx, int(s * 0.63)), (int(s * 0.41), int(s * 0.84)), colour, int(s * 0.045), cv2.LINE_AA)
    cv2.line(image, (cx, int(s * 0.63)), (int(s * 0.59), int(s * 0.84)), colour, int(s * 0.045), cv2.LINE_AA)
    cv2.rectangle(image, (int(s * 0.26), int(s * 0.22)), (int(s * 0.74), int(s * 0.90)), TEAL + (255,), int(s * 0.025))
    cv2.rectangle(image, (int(s * 0.26), int(s * 0.08)), (int(s * 0.74), int(s * 0.21)), PURPLE + (255,), -1)
    for i in range(3):  # the label panel's text, as bars
        x0 = int(s * (0.30 + 0.14 * i))
        cv2.rectangle(image, (x0, int(s * 0.13)), (x0 + int(s * 0.11), int(s * 0.16)), colour, -1)
    return cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "alphaction_demo" / "assets" / "icon.png"
    cv2.imwrite(str(target), draw())
    print(target)
