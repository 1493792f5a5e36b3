#!/usr/bin/python3
"""bench/torch_resnet18.py — PyTorch's latency of ResNet-18 subnets (uniform widths), the peer of
bench/backend_latency.c in bench/cuda_check.sh.

The network is dynn's resnet18 (torchvision's layout: 7x7/2 stem, 3x3/2 max-pool, four stages of two
basic blocks at 64, 128, 256, 512 channels times the width, 1x1/2 projection shortcuts, global
average pool, a 1000-way classifier), one model per width, random weights, eval mode. The timing
rule is dynn's: warm-up forwards, then the median of synchronized repeats, each the host wall time
from a host input tensor to host logits (upload, forward, download); on a GPU also the device time
of the same span from CUDA events. cuDNN with benchmark mode (its own algorithm search) and FP32
arithmetic: TF32 is off, as dynn's cuda backend uses FMA math only.

Usage: torch_resnet18.py [--device cuda|cpu] [--hw 224] [--widths 0.25,0.5,0.75,1]
                         [--batches 1,128] [--warmup 5] [--repeat 20] [--threads N] [--json]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.short is None else self.short(x)))


class ResNet18(nn.Module):
    def __init__(self, width, classes=1000):
        super().__init__()
        w = [int(width * c + 0.5) for c in (64, 128, 256, 512)]  # dynn's rounding (bench/backend_latency.c)
        self.stem = nn.Sequential(nn.Conv2d(3, w[0], 7, 2, 3, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], w[0]
        for i, c in enumerate(w):
            layers += [Block(cin, c, 1 if i == 0 else 2), Block(c, c, 1)]
            cin = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--hw", type=int, default=224)
    ap.add_argument("--widths", default="0.25,0.5,0.75,1")
    ap.add_argument("--batches", default="1,128")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    gpu = dev.type == "cuda"
    if gpu:
        if not torch.cuda.is_available():
            print("torch_resnet18.py: PyTorch sees no CUDA GPU", file=sys.stderr)
            return 1
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(1)
    results = []
    with torch.inference_mode():
        for width in [float(w) for w in a.widths.split(",")]:
            model = ResNet18(width).to(dev).eval()
            for batch in [int(b) for b in a.batches.split(",")]:
                x = torch.rand(batch, 3, a.hw, a.hw) - 0.5
                host, device = [], []
                for r in range(a.warmup + a.repeat):
                    if gpu:
                        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                        torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    if gpu:
                        e0.record()
                    logits = model(x.to(dev)).cpu()  # .cpu() waits for the GPU
                    if gpu:
                        e1.record()
                        torch.cuda.synchronize()
                    t1 = time.perf_counter()
                    if r >= a.warmup:
                        host.append((t1 - t0) * 1e3)
                        if gpu:
                            device.append(e0.elapsed_time(e1))
                assert logits.shape == (batch, 1000)
                results.append({"width": width, "batch": batch, "host_ms": statistics.median(host),
                                "device_ms": statistics.median(device) if device else None})
            del model
            if gpu:
                torch.cuda.empty_cache()
    info = {"torch": torch.__version__, "device": torch.cuda.get_device_name(dev) if gpu else "cpu",
            "cudnn": torch.backends.cudnn.version() if gpu else None, "hw": a.hw, "warmup": a.warmup,
            "repeat": a.repeat, "results": results}
    if a.json:
        print(json.dumps(info))
    else:
        print(f"PyTorch {info['torch']} on {info['device']}, ResNet-18 {a.hw}x{a.hw}, median of {a.repeat}")
        for r in results:
            print(f"w{r['width']:.2f} batch {r['batch']:4d}: {r['host_ms']:10.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
