/* The a-priori error of trained neuron m at the last update. */
double bf_pn_error(const int m)
{
    return _namespace_bf_pn_err[m];
}
