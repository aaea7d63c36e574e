"""cio-sandbox's transform core: Segment events in, the exact Customer.io requests out."""
