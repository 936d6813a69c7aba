#!/usr/bin/env python3
"""Writes a small GluonNLP BERT exported by MXNet 1.9.1, with MXNet's output,
for test/lit/Tools/gluonnlp-bert.test (offline: run with the MXNet venv plus
`pip install --no-deps gluonnlp==0.10.0`, e.g. /opt/mxvenv/bin/python make.py;
ctest never runs it).

gluonnlp.model.bert.BERTModel with a 2-layer BERTEncoder (units 64, hidden
128, 4 heads, gelu), token-type embeddings, pooler and classifier, weights
drawn from N(0, 0.05), hybridized and exported: its symbol has the
interleaved attention products (_contrib_interleaved_matmul_selfatt_qk /
_valatt), _contrib_arange_like, SequenceMask (valid_length), LayerNorm,
LeakyReLU gelu and FullyConnected(flatten=False). Inputs: data0 token ids
(2, 12), data1 token types, data2 valid lengths (12, 7). Outputs (MXNet
float32, inference): ref_out0 the sequence encoding, ref_out1 the pooled
output, ref_out2 the classifier scores.
"""
import os

import numpy as np
import mxnet as mx
from gluonnlp.model.bert import BERTEncoder, BERTModel

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    mx.random.seed(0)
    rng = np.random.RandomState(0)
    enc = BERTEncoder(num_layers=2, units=64, hidden_size=128, max_length=64, num_heads=4,
                      dropout=0.0, activation="gelu", layer_norm_eps=1e-12)
    net = BERTModel(enc, vocab_size=100, token_type_vocab_size=2, units=64, embed_size=64,
                    use_pooler=True, use_decoder=False, use_classifier=True,
                    use_token_type_embed=True)
    net.initialize(mx.init.Normal(0.05))
    tokens = rng.randint(0, 100, (2, 12)).astype(np.float32)
    types = rng.randint(0, 2, (2, 12)).astype(np.float32)
    valid = np.array([12, 7], dtype=np.float32)
    net.hybridize()
    outs = net(mx.nd.array(tokens), mx.nd.array(types), mx.nd.array(valid))
    net.export(os.path.join(HERE, "model"), epoch=0)
    for name, a in (("data0", tokens), ("data1", types), ("data2", valid)):
        np.save(os.path.join(HERE, name + ".npy"), a)
    for i, o in enumerate(outs):
        np.save(os.path.join(HERE, "ref_out%d.npy" % i), o.asnumpy())
    print([o.shape for o in outs])


if __name__ == "__main__":
    main()
