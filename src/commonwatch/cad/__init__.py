"""History from other computer-aided dispatch (CAD) systems: import their exports, measure their
response intervals like live incidents, and replay their calls through our recommendations."""
