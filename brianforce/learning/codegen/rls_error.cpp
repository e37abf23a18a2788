double bf_rls_error(const int k)
{
    return _namespace_bf_rls_err[k];
}
