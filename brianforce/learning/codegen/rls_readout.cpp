double bf_rls_readout(const int k, const int which)
{
    return _namespace_bf_rls_zu[2 * k + which];
}
