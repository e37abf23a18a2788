/* Called for every presynaptic neuron at an RLS tick: keeps its regressor r, returns it unchanged. */
double bf_pn_collect(const int i, const double r)
{
    _namespace_bf_pn_r[i] = r;
    return r;
}
