cdef double bf_rls_error(int k):
    return _namespace_bf_rls_err[k]
