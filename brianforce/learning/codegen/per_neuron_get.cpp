/* Called for every synapse (pre i, post j): after an update, the new weight of a trained neuron's
   input (its slot found by bisection in the sorted input table), else w unchanged. */
double bf_pn_get(const int i, const int j, const double w)
{
    const double* st = _namespace_bf_pn_state;
    if (st[7] == 0.0) return w;
    const int m = _namespace_bf_pn_rowof[j];
    if (m < 0) return w;
    const int K = (int)st[1];
    const int32_t* idx = _namespace_bf_pn_index + (size_t)m * K;
    int lo = 0, hi = _namespace_bf_pn_count[m];
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (idx[mid] < i) lo = mid + 1; else hi = mid;
    }
    return (lo < _namespace_bf_pn_count[m] && idx[lo] == i) ? _namespace_bf_pn_W[(size_t)m * K + lo] : w;
}
