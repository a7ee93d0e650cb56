"""RAM++ (Swin-L/384) inference forward pass with random weights.

Structure only: weights are random; the computation matches RAM++ inference:
  Swin-L/384 features -> prepend mean token -> image_proj -> label reweighting
  -> wordvec_proj+ReLU -> 2 cross-attention-only BERT layers -> fc.

`python ramplus.py` builds the model, runs one forward, prints shapes and the
FLOP count (analytic, and measured with torch.utils.flop_counter).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import tv_shim

tv_shim.install()
import timm  # noqa: E402

NUM_CLASS = 4585
DES_PER_CLASS = 51
EMBED = 512          # image_proj / label embedding width
HIDDEN = 768         # tagging head width
HEADS = 4           # q2l_config.json: num_attention_heads
FFN = 3072
LAYERS = 2
IMG = 384


class CrossAttnLayer(nn.Module):
    """BERT layer in RAM 'tagging' mode: cross-attention + FFN, no self-attention."""

    def __init__(self, hidden=HIDDEN, enc_width=EMBED, heads=HEADS, ffn=FFN):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(enc_width, hidden)
        self.v = nn.Linear(enc_width, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.ffn_out = nn.Linear(ffn, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, enc):
        b, t, _ = x.shape
        s = enc.shape[1]
        q = self.q(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(enc).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(enc).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, -1)
        x = self.attn_norm(self.attn_out(ctx) + x)
        h = self.ffn_out(F.gelu(self.ffn_in(x)))  # exact (erf) GELU
        return self.ffn_norm(h + x)


class RAMPlus(nn.Module):
    def __init__(self):
        super().__init__()
        self.visual_encoder = timm.create_model(
            "swin_large_patch4_window12_384", pretrained=False, num_classes=0, img_size=IMG)
        vis_width = self.visual_encoder.num_features  # 1536
        self.image_proj = nn.Linear(vis_width, EMBED)
        # CLIP-like text embeddings: random unit vectors
        le = torch.randn(NUM_CLASS * DES_PER_CLASS, EMBED)
        self.label_embed = nn.Parameter(le / le.norm(dim=-1, keepdim=True))
        self.reweight_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.wordvec_proj = nn.Linear(EMBED, HIDDEN)
        self.tagging_head = nn.ModuleList([CrossAttnLayer() for _ in range(LAYERS)])
        self.fc = nn.Linear(HIDDEN, 1)

    def forward(self, image):
        feats = self.visual_encoder.forward_features(image)   # [B, 12, 12, 1536] NHWC, final norm applied
        b = feats.shape[0]
        feats = feats.reshape(b, -1, feats.shape[-1])          # [B, 144, 1536]
        image_embeds0 = torch.cat([feats.mean(dim=1, keepdim=True), feats], dim=1)  # [B, 145, 1536]
        image_embeds = self.image_proj(image_embeds0)          # [B, 145, 512]

        cls = F.normalize(image_embeds[:, 0, :], dim=-1)       # [B, 512]
        logits_per_image = self.reweight_scale.exp() * cls @ self.label_embed.t()  # [B, 4585*51]
        w = torch.softmax(logits_per_image.view(b, NUM_CLASS, DES_PER_CLASS), dim=-1)  # [B, 4585, 51]
        emb = self.label_embed.view(NUM_CLASS, DES_PER_CLASS, EMBED)
        # weighted sum of the 51 description embeddings per tag, as a batched matmul
        label = torch.matmul(w.transpose(0, 1), emb).transpose(0, 1)  # [B, 4585, 512]
        queries = F.relu(self.wordvec_proj(label))             # [B, 4585, 768]

        x = queries
        for layer in self.tagging_head:
            x = layer(x, image_embeds)
        return self.fc(x).squeeze(-1)                          # [B, 4585]


def build(seed=0):
    torch.manual_seed(seed)
    return RAMPlus().eval()


def example_input(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, IMG, IMG, generator=g)


def analytic_flops():
    """FLOPs (2 per multiply-add) of matmuls/linears for batch 1, by part."""
    parts = {}
    # Swin-L/384
    embed, depths, win = 192, (2, 2, 18, 2), 12
    res = IMG // 4
    wt = win * win
    parts["swin.patch_embed (4x4/4 conv = linear 48->192)"] = 2 * res * res * 48 * embed
    blocks = merges = 0
    c = embed
    for i, d in enumerate(depths):
        if i > 0:  # PatchMerging at stage start: Linear(4C, 2C) on N/4 tokens
            res //= 2
            merges += 2 * res * res * (4 * c) * (2 * c)
            c *= 2
        n = res * res
        per_block = 2 * n * (3 * c * c + c * c + 8 * c * c) + 2 * 2 * n * wt * c  # qkv,proj,mlp + QK^T,AV
        blocks += d * per_block
    parts["swin.blocks (qkv, attn, proj, mlp)"] = blocks
    parts["swin.patch_merging"] = merges
    s = IMG // 32 * (IMG // 32) + 1  # 145
    parts["image_proj"] = 2 * s * 1536 * EMBED
    parts["label reweight: cls @ label_embed.T"] = 2 * EMBED * NUM_CLASS * DES_PER_CLASS
    parts["label reweight: weighted sum"] = 2 * NUM_CLASS * DES_PER_CLASS * EMBED
    parts["wordvec_proj"] = 2 * NUM_CLASS * EMBED * HIDDEN
    t = NUM_CLASS
    per_layer = (2 * t * HIDDEN * HIDDEN          # Q
                 + 2 * 2 * s * EMBED * HIDDEN     # K, V
                 + 2 * 2 * t * s * HIDDEN         # QK^T, PV
                 + 2 * t * HIDDEN * HIDDEN        # attn out
                 + 2 * 2 * t * HIDDEN * FFN)      # FFN in/out
    parts["tagging_head (2 layers)"] = LAYERS * per_layer
    parts["fc"] = 2 * t * HIDDEN
    return parts


def measured_flops(model, x):
    from torch.utils.flop_counter import FlopCounterMode
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        model(x)
    return fc.get_total_flops(), fc.get_flop_counts()


if __name__ == "__main__":
    model = build()
    x = example_input()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params: {n_params / 1e6:.2f} M")
    with torch.inference_mode():
        feats = model.visual_encoder.forward_features(x)
        y = model(x)
    print("forward_features:", tuple(feats.shape), "-> tokens", (1, feats.shape[1] * feats.shape[2], feats.shape[3]))
    print("logits:", tuple(y.shape))

    parts = analytic_flops()
    total = sum(parts.values())
    print("\nAnalytic FLOPs (2/MAC, matmuls+linears):")
    for k, v in parts.items():
        print(f"  {k:50s} {v / 1e9:9.3f} GFLOP")
    print(f"  {'TOTAL':50s} {total / 1e9:9.3f} GFLOP")
    no_conv = total - parts["swin.patch_embed (4x4/4 conv = linear 48->192)"]
    print(f"  {'TOTAL without patch-embed conv':50s} {no_conv / 1e9:9.3f} GFLOP")

    mt, by_mod = measured_flops(model, x)
    print(f"\ntorch FlopCounterMode total: {mt / 1e9:.3f} GFLOP")
    for op, v in sorted(by_mod.get("Global", {}).items(), key=lambda kv: -kv[1]):
        print(f"  {str(op):40s} {v / 1e9:9.3f} GFLOP")
