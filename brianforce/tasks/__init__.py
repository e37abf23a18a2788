"""Task generators: small, paper-derived functions returning inputs, targets and timing."""
