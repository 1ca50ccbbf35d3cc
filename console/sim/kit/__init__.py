"""What every simulated vendor builds on: its context, knobs, fault middleware, the
VendorSim base and the World interface. Vendors import from here; nothing here imports
a vendor."""
