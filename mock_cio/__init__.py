"""A mock of Customer.io's Track API that records every request and keeps Customer.io's state."""
