#!/usr/bin/env python3
"""Golden numbers for tests/detector/test_coco_metric.cpp.

An independent implementation, with numpy, of the COCO detection metric as pycocotools'
COCOeval computes it for iouType 'bbox' (the rules are listed in detector/coco_metric.h):
per image and category the best 100 detections by score; greedy matching at IoU
.50:.05:.95 preferring ground truth that is not ignored; crowd boxes ignored, matched by
intersection over the detection's area and any number of times; area ranges all / small /
medium / large on the annotation's area; 101-point interpolated precision; AP and AR at 1,
10 and 100 detections. It writes coco_eval_golden.json beside itself: hand-made cases and
random ones, each with its ground truth, detections and the twelve summary figures.

    /usr/bin/python3 tests/detector/coco_eval_reference.py

A second use scores a real run, for tests/tools/test_coco_eval.cpp: a COCO ground-truth file
(its first N images) and a COCO results file, as pycocotools' loadRes reads them:

    /usr/bin/python3 tests/detector/coco_eval_reference.py --score GT.json RESULTS.json N

prints {"stats": [12 figures], "per_class_ap": {name: AP}} as one JSON line.
Boxes in the golden file are [x1, y1, x2, y2] in continuous pixels (data/box.h); COCO's
[x, y, w, h] is x1 = x, x2 = x + w. Images are taken in the order given.
"""
import json
import os
import sys

import numpy as np

IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
MAX_DETS = [1, 10, 100]
AREAS = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]


def box_iou(d, g, crowd):
    """d, g: [x, y, w, h]; for a crowd g, intersection over d's area."""
    iw = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    ih = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = d[2] * d[3] if crowd else d[2] * d[3] + g[2] * g[3] - inter
    return inter / union


def evaluate_image(gts, dts, area_range):
    """gts: dicts with bbox, crowd, area; dts: with bbox, score (already this category's)."""
    if not gts and not dts:
        return None
    g_ignore = [1 if g['crowd'] or g['area'] < area_range[0] or g['area'] > area_range[1] else 0 for g in gts]
    order = np.argsort(g_ignore, kind='mergesort')
    gts = [gts[i] for i in order]
    g_ignore = np.array([g_ignore[i] for i in order])
    dts = sorted(dts, key=lambda d: -d['score'])[:MAX_DETS[-1]]  # Python's sort is stable
    T, G, D = len(IOU_THRS), len(gts), len(dts)
    ious = np.array([[box_iou(d['bbox'], g['bbox'], g['crowd']) for g in gts] for d in dts]).reshape(D, G)
    g_taken = np.zeros((T, G))
    d_matched = np.zeros((T, D))
    d_ignore = np.zeros((T, D))
    for t, thr in enumerate(IOU_THRS):
        for di in range(D):
            best, m = min(thr, 1 - 1e-10), -1
            for gi in range(G):
                if g_taken[t, gi] and not gts[gi]['crowd']:
                    continue
                if m > -1 and g_ignore[m] == 0 and g_ignore[gi] == 1:
                    break
                if ious[di, gi] < best:
                    continue
                best, m = ious[di, gi], gi
            if m == -1:
                continue
            d_ignore[t, di] = g_ignore[m]
            d_matched[t, di] = 1
            g_taken[t, m] = 1
    outside = np.array([d['bbox'][2] * d['bbox'][3] < area_range[0] or d['bbox'][2] * d['bbox'][3] > area_range[1]
                        for d in dts]).reshape(1, D)
    d_ignore = np.logical_or(d_ignore, np.logical_and(d_matched == 0, np.repeat(outside, T, 0)))
    return {'scores': np.array([d['score'] for d in dts]), 'matched': d_matched, 'ignore': d_ignore,
            'g_ignore': g_ignore}


def evaluate(images, num_classes):
    """images: [{'gt': [...], 'dt': [...]}], each entry with 'label'. Returns (stats, per_class_ap)."""
    T, R, K, A, M = len(IOU_THRS), len(REC_THRS), num_classes, len(AREAS), len(MAX_DETS)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for k in range(K):
        for a, area_range in enumerate(AREAS):
            evals = [evaluate_image([g for g in im['gt'] if g['label'] == k], [d for d in im['dt'] if d['label'] == k],
                                    area_range) for im in images]
            evals = [e for e in evals if e is not None]
            if not evals:
                continue
            npig = sum(int(np.count_nonzero(e['g_ignore'] == 0)) for e in evals)
            if npig == 0:
                continue
            for m, max_det in enumerate(MAX_DETS):
                scores = np.concatenate([e['scores'][:max_det] for e in evals])
                order = np.argsort(-scores, kind='mergesort')
                matched = np.concatenate([e['matched'][:, :max_det] for e in evals], axis=1)[:, order]
                ignore = np.concatenate([e['ignore'][:, :max_det] for e in evals], axis=1)[:, order]
                tps = np.cumsum(np.logical_and(matched, np.logical_not(ignore)), axis=1).astype(float)
                fps = np.cumsum(np.logical_and(np.logical_not(matched), np.logical_not(ignore)), axis=1).astype(float)
                for t in range(T):
                    tp, fp = tps[t], fps[t]
                    rc = tp / npig
                    pr = list(tp / (fp + tp + np.spacing(1)))
                    recall[t, k, a, m] = rc[-1] if len(tp) else 0
                    for i in range(len(pr) - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    q = np.zeros(R)
                    for ri, pi in enumerate(np.searchsorted(rc, REC_THRS, side='left')):
                        if pi >= len(pr):
                            break
                        q[ri] = pr[pi]
                    precision[t, :, k, a, m] = q

    def mean(s):
        return float(np.mean(s[s > -1])) if np.any(s > -1) else -1.0

    stats = [mean(precision[:, :, :, 0, 2]), mean(precision[0, :, :, 0, 2]), mean(precision[5, :, :, 0, 2]),
             mean(precision[:, :, :, 1, 2]), mean(precision[:, :, :, 2, 2]), mean(precision[:, :, :, 3, 2]),
             mean(recall[:, :, 0, 0]), mean(recall[:, :, 0, 1]), mean(recall[:, :, 0, 2]),
             mean(recall[:, :, 1, 2]), mean(recall[:, :, 2, 2]), mean(recall[:, :, 3, 2])]
    per_class = [mean(precision[:, :, k, 0, 2]) for k in range(K)]
    return stats, per_class


def from_corners(case):
    """Golden-file images ([x1, y1, x2, y2, label, crowd, area] / [x1, y1, x2, y2, label, score])."""
    images = []
    for im in case['images']:
        gt = [{'bbox': [g[0], g[1], g[2] - g[0], g[3] - g[1]], 'label': g[4], 'crowd': g[5],
               'area': g[6] if g[6] >= 0 else (g[2] - g[0]) * (g[3] - g[1])} for g in im['gt']]
        dt = [{'bbox': [d[0], d[1], d[2] - d[0], d[3] - d[1]], 'label': d[4], 'score': d[5]} for d in im['dt']]
        images.append({'gt': gt, 'dt': dt})
    return images


def hand_made():
    cases = []

    def case(name, k, images):
        cases.append({'name': name, 'classes': k, 'images': images})

    case('one perfect detection', 1, [{'gt': [[10, 10, 50, 50, 0, 0, -1]], 'dt': [[10, 10, 50, 50, 0, 0.9]]}])
    case('no detections', 1, [{'gt': [[10, 10, 50, 50, 0, 0, -1]], 'dt': []}])
    case('detections on a crowd are ignored, any number of them', 1, [
        {'gt': [[0, 0, 100, 100, 0, 1, -1], [200, 200, 260, 240, 0, 0, -1]],
         'dt': [[10, 10, 40, 40, 0, 0.95], [50, 50, 90, 90, 0, 0.9], [200, 200, 258, 240, 0, 0.5],
                [300, 300, 330, 330, 0, 0.4]]}])
    case('a second detection of a found object is a false positive', 1, [
        {'gt': [[0, 0, 40, 40, 0, 0, -1]], 'dt': [[0, 0, 40, 40, 0, 0.9], [1, 0, 40, 40, 0, 0.8]]},
        {'gt': [[0, 0, 40, 40, 0, 0, -1]], 'dt': [[0, 0, 30, 40, 0, 0.85]]}])
    case('area ranges, bounds inclusive, the annotation area over the box', 2, [
        {'gt': [[0, 0, 32, 32, 0, 0, -1], [100, 100, 196, 196, 0, 0, -1], [300, 0, 310, 10, 1, 0, -1],
                [400, 400, 500, 500, 1, 0, 500.0]],
         'dt': [[0, 0, 32, 31, 0, 0.7], [100, 100, 190, 196, 0, 0.6], [300, 0, 310, 10, 1, 0.99],
                [400, 400, 500, 500, 1, 0.3], [600, 600, 700, 700, 1, 0.8], [10, 300, 14, 304, 0, 0.9]]}])
    case('maxDets: 12 detections, the right one last', 1, [
        {'gt': [[0, 0, 50, 50, 0, 0, -1]],
         'dt': [[100 + 10 * i, 0, 140 + 10 * i, 40, 0, 0.9 - 0.01 * i] for i in range(11)] +
               [[0, 0, 50, 50, 0, 0.5]]}])
    case('equal scores across images keep image order', 1, [
        {'gt': [[0, 0, 20, 20, 0, 0, -1]], 'dt': [[50, 50, 70, 70, 0, 0.5]]},
        {'gt': [[0, 0, 20, 20, 0, 0, -1]], 'dt': [[0, 0, 20, 20, 0, 0.5]]}])
    case('a class without ground truth is left out', 3, [
        {'gt': [[0, 0, 20, 20, 0, 0, -1]], 'dt': [[0, 0, 20, 20, 0, 0.5], [0, 0, 20, 20, 1, 0.6]]}])
    case('only crowd ground truth: nothing to score', 1, [
        {'gt': [[0, 0, 20, 20, 0, 1, -1]], 'dt': [[0, 0, 20, 20, 0, 0.5]]}])
    return cases


def random_case(rng, name, n_images, k, max_dets):
    images = []
    q = lambda v: float(np.round(v * 16) / 16)  # exact in float32
    for _ in range(n_images):
        w, h = int(rng.integers(200, 640)), int(rng.integers(200, 480))
        gt, dt = [], []
        for _ in range(int(rng.integers(0, 8))):
            side = float(np.exp(rng.uniform(np.log(6), np.log(min(w, h) * 0.9))))
            bw, bh = side * rng.uniform(0.6, 1.4), side * rng.uniform(0.6, 1.4)
            x1, y1 = rng.uniform(0, max(1, w - bw)), rng.uniform(0, max(1, h - bh))
            box = [q(x1), q(y1), q(min(w, x1 + bw)), q(min(h, y1 + bh))]
            label, crowd = int(rng.integers(k)), int(rng.random() < 0.1)
            area = q(rng.uniform(0.3, 1.0) * (box[2] - box[0]) * (box[3] - box[1])) if rng.random() < 0.3 else -1
            gt.append(box + [label, crowd, area])
            for _ in range(int(rng.integers(0, 4))):
                s = 0.1 * side
                d = [q(box[0] + rng.normal(0, s)), q(box[1] + rng.normal(0, s)), 0, 0]
                d[2], d[3] = q(max(d[0] + 1, box[2] + rng.normal(0, s))), q(max(d[1] + 1, box[3] + rng.normal(0, s)))
                wrong = rng.random() < 0.1
                dt.append(d + [int(rng.integers(k)) if wrong else label, float(np.round(rng.random() * 64) / 64)])
        for _ in range(int(rng.integers(0, max_dets))):
            cx, cy, bw, bh = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(4, w / 2), rng.uniform(4, h / 2)
            dt.append([q(cx - bw / 2), q(cy - bh / 2), q(cx + bw / 2), q(cy + bh / 2), int(rng.integers(k)),
                       float(np.round(rng.random() * 1024) / 1024)])
        images.append({'gt': gt, 'dt': dt})
    return {'name': name, 'classes': k, 'images': images}


def score(gt_file, results_file, count):
    gt = json.load(open(gt_file))
    images = gt['images'][:count]
    cats = sorted(gt['categories'], key=lambda c: c['id'])
    label = {c['id']: k for k, c in enumerate(cats)}
    index = {im['id']: i for i, im in enumerate(images)}
    out = [{'gt': [], 'dt': []} for _ in images]
    for a in gt['annotations']:
        if a['image_id'] in index:
            x, y, w, h = a['bbox']
            out[index[a['image_id']]]['gt'].append({'bbox': [x, y, w, h], 'label': label[a['category_id']],
                                                    'crowd': a.get('iscrowd', 0), 'area': a.get('area', w * h)})
    for r in json.load(open(results_file)):
        if r['image_id'] in index:
            out[index[r['image_id']]]['dt'].append({'bbox': r['bbox'], 'label': label[r['category_id']],
                                                    'score': r['score']})
    stats, per_class = evaluate(out, len(cats))
    print(json.dumps({'stats': stats, 'per_class_ap': {c['name']: ap for c, ap in zip(cats, per_class)}}))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == '--score':
        score(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    rng = np.random.default_rng(2025)
    cases = hand_made() + [random_case(rng, 'random: 40 images, 3 classes', 40, 3, 20),
                           random_case(rng, 'random: 8 images, 2 classes, over 100 detections', 8, 2, 260)]
    for c in cases:
        c['stats'], c['per_class_ap'] = evaluate(from_corners(c), c['classes'])
    golden = {'about': 'COCO bbox metric (pycocotools COCOeval rules) by coco_eval_reference.py; boxes '
                       '[x1, y1, x2, y2]; gt [.., label, crowd, area or -1], dt [.., label, score]; stats in '
                       "pycocotools' order: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl",
              'command': '/usr/bin/python3 tests/detector/coco_eval_reference.py', 'cases': cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'coco_eval_golden.json')
    with open(path, 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
        f.write('\n')
    for c in cases:
        print(c['name'], ' '.join('%.4f' % s for s in c['stats']))


if __name__ == '__main__':
    main()
