// FLOPs per item of a CLIP bundle, counted from its config.json.
//
// Only the matrix products are counted (2 FLOPs per multiply-accumulate); layer norms, softmax,
// GELU, biases and residual adds are elementwise and together well under 1% of the total.
//
// Vision tower (ViT), tokens T = (image / patch)^2 + 1 (the class token), width d, MLP width f:
//   patch embedding  (T-1) · (3 · patch²) · d         a conv with stride = kernel = patch: a GEMM
//   per layer        4 · T · d²                        Q, K, V and output projections
//                    2 · T² · d                        Q·Kᵀ and softmax(Q·Kᵀ)·V over all heads
//                    2 · T · d · f                     the two MLP matrices
//   projection       d · projection_dim                pooled (class) token only
// Text tower, tokens T = context length (77 unless trimmed), same per-layer terms, projection of
// the pooled (end) token; the token embedding is a lookup (no FLOPs).

export function towerMacs({ tokens, width, mlp, layers }) {
  const projections = 4 * tokens * width * width;
  const attention = 2 * tokens * tokens * width;
  const ffn = 2 * tokens * width * mlp;
  return {
    projections,
    attention,
    ffn,
    perLayer: projections + attention + ffn,
    layers: layers * (projections + attention + ffn),
  };
}

export function clipFlops(config, textTokens) {
  const v = config.vision_config;
  const t = config.text_config;
  const projection = config.projection_dim ?? v.projection_dim;
  const patches = (v.image_size / v.patch_size) ** 2;
  const vTokens = patches + 1;
  const vision = towerMacs({
    tokens: vTokens,
    width: v.hidden_size,
    mlp: v.intermediate_size,
    layers: v.num_hidden_layers,
  });
  const patchMacs = patches * 3 * v.patch_size * v.patch_size * v.hidden_size;
  const vProjMacs = v.hidden_size * projection;
  const visionMacs = patchMacs + vision.layers + vProjMacs;

  const context = t.max_position_embeddings ?? 77;
  const textAt = (tokens) => {
    const tower = towerMacs({ tokens, width: t.hidden_size, mlp: t.intermediate_size, layers: t.num_hidden_layers });
    return { tower, macs: tower.layers + t.hidden_size * projection };
  };
  const text = textAt(context);
  const trimmed = textTokens ? textAt(textTokens) : undefined;
  return {
    vision: {
      tokens: vTokens,
      layers: v.num_hidden_layers,
      patchMacs,
      perLayer: vision,
      layerMacs: vision.layers,
      projectionMacs: vProjMacs,
      macs: visionMacs,
      flops: 2 * visionMacs,
      config: `${v.num_hidden_layers} layers, width ${v.hidden_size}, MLP ${v.intermediate_size}, patch ${v.patch_size}, image ${v.image_size}`,
    },
    text: {
      tokens: context,
      layers: t.num_hidden_layers,
      projectionMacs: t.hidden_size * projection,
      perLayer: text.tower,
      macs: text.macs,
      flops: 2 * text.macs,
      config: `${t.num_hidden_layers} layers, width ${t.hidden_size}, MLP ${t.intermediate_size}, context ${context}`,
    },
    trimmedText: trimmed && { tokens: textTokens, macs: trimmed.macs, flops: 2 * trimmed.macs },
  };
}

export function describeFlops(f) {
  const g = (x) => (x / 1e9).toFixed(3);
  const m = (x) => (x / 1e6).toFixed(1);
  const lines = [
    `vision tower (${f.vision.config}; ${f.vision.tokens} tokens):`,
    `  patch conv ${m(f.vision.patchMacs)} + ${f.vision.layers} × (QKV/out ${m(f.vision.perLayer.projections)} + attention ${m(f.vision.perLayer.attention)} + MLP ${m(f.vision.perLayer.ffn)}) + projection ${m(f.vision.projectionMacs)} M MACs`,
    `  = ${g(f.vision.macs)} G MACs = ${g(f.vision.flops)} GFLOP per image`,
    `text tower (${f.text.config}; ${f.text.tokens} tokens):`,
    `  ${f.text.layers} × (QKV/out ${m(f.text.perLayer.projections)} + attention ${m(f.text.perLayer.attention)} + MLP ${m(f.text.perLayer.ffn)}) + projection ${m(f.text.projectionMacs)} M MACs`,
    `  = ${g(f.text.macs)} G MACs = ${g(f.text.flops)} GFLOP per ${f.text.tokens}-token text`,
  ];
  if (f.trimmedText) {
    lines.push(
      `  (at ${f.trimmedText.tokens.toFixed(1)} tokens, the mean trimmed length of this run's text batches: ${g(f.trimmedText.flops)} GFLOP per text)`,
    );
  }
  return lines.join('\n');
}
