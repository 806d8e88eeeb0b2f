// Runs an ONNX file written by `focal export` in ONNX Runtime (onnxruntime-node, from npm) on
// the input of a probe file written by tests/tools/test_export.cpp, and compares its outputs
// with focal's:  NODE_PATH=.../node_modules node run_onnx.js MODEL.onnx PROBE.safetensors
// Prints the largest errors; exit status 0 when all are below 1e-4, 1 otherwise, 2 on bad use.
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

// safetensors: u64 header length, JSON header, raw little-endian data (F32 only here).
function readSafetensors(path) {
  const bytes = fs.readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const out = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (entry.dtype !== "F32") throw new Error(`${path}: ${name} is ${entry.dtype}, expected F32`);
    const [begin, end] = entry.data_offsets;
    const copy = Uint8Array.from(bytes.subarray(8 + n + begin, 8 + n + end));  // aligned for Float32Array
    out[name] = { shape: entry.shape, data: new Float32Array(copy.buffer) };
  }
  return out;
}

// max |a - b| / (1 + |b|), or Infinity when the shapes differ.
function maxRelativeError(actual, expected) {
  if (JSON.stringify(actual.dims.map(Number)) !== JSON.stringify(expected.shape)) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.data.length; ++i)
    worst = Math.max(worst, Math.abs(actual.data[i] - expected.data[i]) / (1 + Math.abs(expected.data[i])));
  return worst;
}

async function main() {
  const [model, probePath] = process.argv.slice(2);
  if (!model || !probePath) {
    console.error("usage: node run_onnx.js MODEL.onnx PROBE.safetensors");
    process.exit(2);
  }
  const probe = readSafetensors(probePath);
  const session = await ort.InferenceSession.create(model);
  const input = new ort.Tensor("float32", probe.input.data, probe.input.shape);
  const outputs = await session.run({ images: input });
  const errors = {};
  for (const name of ["cls_logits", "box_deltas", "anchors"]) errors[name] = maxRelativeError(outputs[name], probe[name]);
  console.log(JSON.stringify({ batch: probe.input.shape[0], errors }));
  process.exit(Object.values(errors).every((e) => e < 1e-4) ? 0 : 1);
}

main().catch((e) => {
  console.error(`run_onnx: ${e.message}`);
  process.exit(1);
});
