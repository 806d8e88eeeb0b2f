#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz targets into fuzz/corpus/<target>/ (run from the
repository root: /usr/bin/python3 fuzz/make_seeds.py). The JPEG seeds are not made here:
they are images `focal make-shapes --images 2 --size 32 --quality 50` wrote (shapes_*.jpg),
the JPEGs focal itself produces; regression inputs found by fuzzing are committed beside these by hand."""
import json
import os
import struct
import zlib

ROOT = 'fuzz/corpus/'


def put(target, name, data):
    os.makedirs(ROOT + target, exist_ok=True)
    with open(ROOT + target + '/' + name, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- image: PNG variants stb_image decodes, and the first bytes of the formats focal refuses
def chunk(t, data):
    return struct.pack('>I', len(data)) + t + data + struct.pack('>I', zlib.crc32(t + data) & 0xffffffff)


def png(name, w, h, depth, ctype, rows, extra=b'', interlace=0):
    raw = b''.join(b'\x00' + r for r in rows)
    b = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, interlace)) + extra
    put('image', name, b + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


w, h = 5, 3
png('rgb8.png', w, h, 8, 2, [bytes(v for x in range(w) for v in (x * 50, y * 80, 7)) for y in range(h)])
png('rgba8.png', w, h, 8, 6, [bytes(v for x in range(w) for v in (x * 50, y * 80, 7, 200)) for y in range(h)])
png('gray8.png', w, h, 8, 0, [bytes(x * 50 for x in range(w)) for y in range(h)])
png('gray16.png', w, h, 16, 0, [b''.join(struct.pack('>H', x * 9000) for x in range(w)) for y in range(h)])
png('rgb16.png', 2, 2, 16, 2, [b''.join(struct.pack('>HHH', x * 9000, y, 5) for x in range(2)) for y in range(2)])
png('graya8.png', w, h, 8, 4, [bytes(v for x in range(w) for v in (x * 50, 255)) for y in range(h)])
png('gray1.png', 8, 2, 1, 0, [b'\xa5', b'\x5a'])
png('palette4.png', 4, 2, 4, 3, [b'\x01\x23', b'\x32\x10'], extra=chunk(b'PLTE', bytes(range(12))) + chunk(b'tRNS', b'\x00\x80'))
png('interlaced1x1.png', 1, 1, 8, 2, [b'\x10\x20\x30'], interlace=1)
put('image', 'refused.bmp', b'BM' + struct.pack('<IHHI', 70, 0, 0, 54) + struct.pack('<IiiHHIIiiII', 40, 2, 2, 1, 24, 0, 16, 0, 0, 0, 0) + bytes(16))
put('image', 'refused.gif', b'GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;')
put('image', 'refused.ppm', b'P6\n2 1\n255\n' + bytes(6))
put('image', 'refused.hdr', b'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n' + bytes(4))
put('image', 'refused.psd', b'8BPS\x00\x01' + bytes(6) + b'\x00\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x08\x00\x03' + bytes(12))
put('image', 'refused.tga', bytes([0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 24, 0]) + bytes(3))


# --- safetensors: files laid out as engine/serialize.cpp writes them
def safetensors(name, tensors, metadata=None):
    header, data = {}, b''
    if metadata:
        header['__metadata__'] = metadata
    for key, (dtype, shape, payload) in tensors.items():
        header[key] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - len(text) % 8) % 8)
    put('safetensors', name, struct.pack('<Q', len(text)) + text.encode() + data)


f32 = lambda *v: struct.pack('<%df' % len(v), *v)
safetensors('one.safetensors', {'w': ('F32', [2], f32(1.5, -2))})
safetensors('checkpoint.safetensors', {
    'backbone.stem.weight': ('F32', [2, 1, 1, 1], f32(0.25, 0.5)),
    'backbone.stem.bn.num_batches_tracked': ('I32', [], struct.pack('<i', 7)),
    'head.bias': ('F32', [3], f32(-4.59, -4.59, -4.59)),
    'empty': ('F32', [0, 4], b''),
}, {'format': 'pt', 'producer': 'focal'})
safetensors('optimizer.safetensors', {'momentum.0': ('F32', [1, 2], f32(0, 1))},
            {'epoch': '3', 'step': '120', 'best_map': '0.412'})
safetensors('metadata_only.safetensors', {}, {'epoch': '1'})

# --- run_config: a config.json as `focal train` writes it, and --model patches
tiny_model = {
    'preset': 'tiny', 'image_size': 256,
    'backbone': {'in_channels': 3, 'stem_channels': 32, 'stage_channels': [64, 128, 256, 256],
                 'blocks_per_stage': [1, 1, 1, 1]},
    'fpn': {'in_channels': [128, 256, 256], 'channels': 128, 'extra_levels': 2},
    'anchors': {'strides': [8, 16, 32, 64, 128], 'size_per_stride': 4.0,
                'scales': [1.0, 1.2599210739135742, 1.587401032447815], 'ratios': [0.5, 1.0, 2.0]},
    'num_classes': 20, 'head_channels': 128, 'head_convs': 4, 'head_norm_groups': 0, 'prior': 0.01,
    'prior_bias': True, 'softmax': False, 'head_init_std': 0.01}
train = {
    'data': 'data/VOCdevkit', 'split': 'trainval', 'val_split': 'test', 'year': 2007, 'classes': '',
    'skip_bad': False, 'max_images': 0, 'augment': True, 'crop_probability': 0.5, 'min_zoom': 0.5,
    'max_zoom': 2.0, 'workers': 2, 'preset': 'tiny', 'image_size': 0,
    'model': {'anchors': {'strides': [8, 16, 32, 64]}}, 'prior': 0.01, 'prior_bias': True,
    'cls_loss': 'focal', 'cls_params': {'gamma': 2.0, 'alpha': 0.25}, 'box_loss': 'smooth_l1',
    'box_params': {}, 'normalizer': 'positives', 'optimizer': 'sgd', 'epochs': 12, 'batch': 8, 'lr': 0.01,
    'momentum': 0.9, 'weight_decay': 0.0001, 'warmup_iters': 100, 'schedule': 'step', 'clip_grad': 0.0,
    'max_iters': 0, 'out': 'runs/voc', 'resume': False, 'seed': 0, 'threads': 0, 'eval_every': 1,
    'snapshot_epochs': [1, 6], 'log_every': 10, 'progress': True, 'device': 'cpu'}
put('run_config', 'config.json', json.dumps({'train': train, 'model': tiny_model, 'classes': ['cat', 'dog'],
                                             'class_source': 'classes.txt', 'images': 2, 'anchors': 12276,
                                             'parameters': 1000}, indent=2))
put('run_config', 'train.json', json.dumps(train))
put('run_config', 'model.json', json.dumps(tiny_model))
put('run_config', 'patch_anchors.json', '{"anchors": {"strides": [4, 8, 16, 32], "scales": [1.0]}}')
put('run_config', 'patch_backbone.json', '{"backbone": {"stage_channels": [16, 32, 48, 64]}, '
                                         '"fpn": {"in_channels": [32, 48, 64], "extra_levels": null}}')
put('run_config', 'patch_head.json', '{"head_convs": 2, "head_norm_groups": 8, "prior": 0.05}')
put('run_config', 'patch_unknown.json', '{"anchors": {"stride": [4]}}')
put('run_config', 'patch_wrong_type.json', '{"head_channels": "wide", "image_size": 1e300}')

# --- split_list, class_list, shapes_marker: the files as focal and the VOC devkit write them
put('split_list', 'train.txt', '000005\n000007\n000009\n')
put('split_list', 'crlf_blank.txt', '000005\r\n\r\n  000007 extra\r\n000009')
put('split_list', 'flagged.txt', '000005  1\n000007 -1\n000009  0\n')
put('split_list', 'bad_lines.txt', '000005\n../etc/passwd\n000005\n.\n..\na\\b\n')
put('class_list', 'classes.txt', 'circle\nsquare\ntriangle\nstar\ncross\n')
put('class_list', 'comments.txt', '# the shapes\r\n  cat \n\n#dog\nbird,fish\n')
put('class_list', 'comma_list.txt', 'cat, dog,bird')
put('class_list', 'duplicate.txt', 'cat\ncat\n')
put('shapes_marker', 'focal-shapes.txt', 'generator focal make-shapes 1\nimages 2000\nsize 128\nseed 0\nmin_object 6\n')
put('shapes_marker', 'crlf.txt', 'generator focal make-shapes 1\r\nimages 40\r\nsize 4096\r\nseed 18446744073709551615\r\n'
                                 'min_object 2048\r\n')
put('shapes_marker', 'out_of_range.txt', 'generator focal make-shapes 1\nimages 0\nsize 99999999999\nseed -1\n'
                                         'min_object 1\n')

# --- regression inputs: each a bug fixed, kept as a seed so the fuzzer starts from it
header = ('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},'
          '"c":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}}')
put('safetensors', 'overlap_behind_empty.safetensors', struct.pack('<Q', len(header)) + header.encode() + bytes(12))
header = '{"w":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}'
put('safetensors', 'huge_shape_with_zero.safetensors', struct.pack('<Q', len(header)) + header.encode())
put('run_config', 'float_to_int.json', '{"epochs": 1e300, "seed": -1, "model": {"image_size": 9.5e18}}')
put('run_config', 'regression_softmax_patch.json', '{"softmax": true}')
