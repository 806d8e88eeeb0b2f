#!/usr/bin/env python3
"""Golden numbers for tests/detector/test_voc_metric.cpp.

An independent re-implementation of the official Pascal VOC devkit's detection evaluation
(voc_eval.py by Bharath Hariharan, as shipped with py-faster-rcnn and detectron2), run on
random detections over the genuine VOC 2007 sample. It writes voc_eval_golden.json beside
itself, holding everything the C++ test needs: the ground truth, the detections, and the
per-class AP with the VOC2007 11-point and the VOC2010+ area interpolation.

    /usr/bin/python3 tests/detector/voc_eval_reference.py ../shared/data/VOCdevkit

A second use scores a real run's output, for the end-to-end test in tests/tools: the
detections that `focal detect` wrote (detections.json, boxes in continuous pixel
coordinates, x1 = xmin - 1) on the first N images of a split, scored against the XML:

    /usr/bin/python3 tests/detector/voc_eval_reference.py --score DEVKIT SPLIT N detections.json

prints {"ap_11point": {class: AP or null}, "ap_area": {...}} as one JSON line.

Departures from the devkit, both so that the answer is defined: detections are ranked with a
stable sort (the devkit's argsort is not stable, so its order of equal scores is arbitrary), and
a class without non-difficult ground truth gets no AP (the devkit divides by zero).
Coordinates stay in VOC's 1-based inclusive convention, with the devkit's "+1" in areas.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

import numpy as np

CLASSES = ['aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
           'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
           'train', 'tvmonitor']
SEED = 2024
IMAGES = 150  # the first 150 ids of the val split


def parse_rec(filename):
    objects = []
    for obj in ET.parse(filename).findall('object'):
        bbox = obj.find('bndbox')
        objects.append({
            'name': obj.find('name').text,
            'difficult': int(obj.find('difficult').text),
            'bbox': [int(bbox.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')],
        })
    return objects


def voc_ap(rec, prec, use_07_metric):
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def iou_with(bb, bbgt):
    ixmin = np.maximum(bbgt[:, 0], bb[0])
    iymin = np.maximum(bbgt[:, 1], bb[1])
    ixmax = np.minimum(bbgt[:, 2], bb[2])
    iymax = np.minimum(bbgt[:, 3], bb[3])
    iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
    ih = np.maximum(iymax - iymin + 1.0, 0.0)
    inters = iw * ih
    uni = ((bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0) +
           (bbgt[:, 2] - bbgt[:, 0] + 1.0) * (bbgt[:, 3] - bbgt[:, 1] + 1.0) - inters)
    return inters / uni


def voc_eval(dets, recs, imagenames, classname, ovthresh=0.5, use_07_metric=False):
    """dets: list of (image_id, score, [x1, y1, x2, y2]) for this class."""
    class_recs = {}
    npos = 0
    for name in imagenames:
        R = [obj for obj in recs[name] if obj['name'] == classname]
        bbox = np.array([x['bbox'] for x in R], dtype=np.float64).reshape(-1, 4)
        difficult = np.array([x['difficult'] for x in R]).astype(bool)
        npos = npos + sum(~difficult)
        class_recs[name] = {'bbox': bbox, 'difficult': difficult, 'det': [False] * len(R)}
    if npos == 0:
        return None

    image_ids = [d[0] for d in dets]
    confidence = np.array([d[1] for d in dets], dtype=np.float64)
    BB = np.array([d[2] for d in dets], dtype=np.float64).reshape(-1, 4)
    sorted_ind = np.argsort(-confidence, kind='stable')
    BB = BB[sorted_ind, :]
    image_ids = [image_ids[x] for x in sorted_ind]

    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]
        bb = BB[d, :]
        ovmax = -np.inf
        BBGT = R['bbox']
        if BBGT.size > 0:
            overlaps = iou_with(bb, BBGT)
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > ovthresh:
            if not R['difficult'][jmax]:
                if not R['det'][jmax]:
                    tp[d] = 1.0
                    R['det'][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0

    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, use_07_metric)


def random_detections(rng, recs, sizes, names):
    """Jittered copies of most objects (some twice, some with the wrong class), plus clutter."""
    out = {name: [] for name in names}
    for name in names:
        w, h = sizes[name]
        boxes = []
        for obj in recs[name]:
            x1, y1, x2, y2 = obj['bbox']
            label = CLASSES.index(obj['name'])
            for copy in range(2):
                if rng.random() > (0.75 if copy == 0 else 0.2):
                    continue
                s = 0.07 * max(x2 - x1, y2 - y1)
                b = [x1 + rng.normal(0, s), y1 + rng.normal(0, s), x2 + rng.normal(0, s), y2 + rng.normal(0, s)]
                wrong = rng.random() < 0.1
                boxes.append((b, int(rng.integers(20)) if wrong else label))
        for _ in range(int(rng.integers(0, 6))):
            cx, cy = rng.uniform(1, w), rng.uniform(1, h)
            bw, bh = rng.uniform(10, w / 2), rng.uniform(10, h / 2)
            boxes.append(([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], int(rng.integers(20))))
        for b, label in boxes:
            b = [round(float(np.clip(b[0], 1, w - 2)), 1), round(float(np.clip(b[1], 1, h - 2)), 1),
                 round(float(np.clip(b[2], 2, w)), 1), round(float(np.clip(b[3], 2, h)), 1)]
            b[2], b[3] = max(b[2], b[0] + 1), max(b[3], b[1] + 1)
            score = rng.random()
            if rng.random() < 0.1:
                score = round(score, 2)  # some ties, to pin the ranking of equal scores
            # float32-exact, so that the C++ float score ranks identically
            out[name].append(b + [label, float(np.float32(score))])
    return out


def min_margin(dets, recs, names):
    """Smallest |IoU - 0.5| over same-class pairs: float32 boxes in C++ must not flip a match."""
    margin = 1.0
    for name in names:
        for d in dets[name]:
            gts = [o for o in recs[name] if CLASSES.index(o['name']) == d[4]]
            if gts:
                o = iou_with(np.array(d[:4]), np.array([g['bbox'] for g in gts], dtype=np.float64))
                margin = min(margin, float(np.min(np.abs(o - 0.5))))
    return margin


def score(devkit, split, count, detections_file):
    root = os.path.join(devkit, 'VOC2007')
    with open(os.path.join(root, 'ImageSets/Main', split + '.txt')) as f:
        names = [line.split()[0] for line in f if line.strip()][:count]
    recs = {name: parse_rec(os.path.join(root, 'Annotations', name + '.xml')) for name in names}
    with open(detections_file) as f:
        by_path = json.load(f)
    by_id = {os.path.splitext(os.path.basename(path))[0]: dets for path, dets in by_path.items()}
    missing = [name for name in names if name not in by_id]
    assert not missing, f'no detections listed for {missing[:5]}'
    result = {'ap_11point': {}, 'ap_area': {}}
    for cls in CLASSES:
        # image order, then the order focal detect listed them; back to 1-based inclusive
        class_dets = [(name, d['score'], [d['box'][0] + 1, d['box'][1] + 1, d['box'][2], d['box'][3]])
                      for name in names for d in by_id[name] if d['label'] == cls]
        for key, use07 in (('ap_11point', True), ('ap_area', False)):
            ap = voc_eval(class_dets, recs, names, cls, use_07_metric=use07)
            result[key][cls] = None if ap is None else float(ap)
    print(json.dumps(result))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--score':
        score(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    devkit = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../../../shared/data/VOCdevkit')
    root = os.path.join(devkit, 'VOC2007')
    with open(os.path.join(root, 'ImageSets/Main/val.txt')) as f:
        names = [line.strip() for line in f if line.strip()][:IMAGES]
    recs, sizes = {}, {}
    for name in names:
        path = os.path.join(root, 'Annotations', name + '.xml')
        recs[name] = parse_rec(path)
        size = ET.parse(path).find('size')
        sizes[name] = (int(size.find('width').text), int(size.find('height').text))

    rng = np.random.default_rng(SEED)
    dets = random_detections(rng, recs, sizes, names)
    margin = min_margin(dets, recs, names)
    assert margin > 1e-4, f'an IoU lies within {margin} of 0.5; change SEED'

    ap07, ap10 = [], []
    for k, cls in enumerate(CLASSES):
        class_dets = [(name, d[5], d[:4]) for name in names for d in dets[name] if d[4] == k]
        a07 = voc_eval(class_dets, recs, names, cls, use_07_metric=True)
        a10 = voc_eval(class_dets, recs, names, cls, use_07_metric=False)
        ap07.append(None if a07 is None else float(a07))
        ap10.append(None if a10 is None else float(a10))
    valid07 = [a for a in ap07 if a is not None]
    valid10 = [a for a in ap10 if a is not None]
    golden = {
        'about': 'VOC devkit AP (voc_eval.py logic) on random detections over the VOC 2007 sample; '
                 'boxes 1-based inclusive as in the XML; written by voc_eval_reference.py',
        'command': '/usr/bin/python3 tests/detector/voc_eval_reference.py ../shared/data/VOCdevkit',
        'seed': SEED,
        'classes': CLASSES,
        'images': [{'id': name,
                    'gt': [o['bbox'] + [CLASSES.index(o['name']), o['difficult']] for o in recs[name]],
                    'det': dets[name]} for name in names],
        'ap_11point': ap07,
        'ap_area': ap10,
        'map_11point': float(np.mean(valid07)),
        'map_area': float(np.mean(valid10)),
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'voc_eval_golden.json')
    with open(out, 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
        f.write('\n')
    print(f'{out}: {len(names)} images, {sum(len(v) for v in dets.values())} detections, '
          f'mAP 11-point {golden["map_11point"]:.6f}, area {golden["map_area"]:.6f}, IoU margin {margin:.2e}')


if __name__ == '__main__':
    main()
