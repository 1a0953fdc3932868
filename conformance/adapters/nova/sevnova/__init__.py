"""The sevharness process-protocol adapter around nova's libvirt driver (Debian python3-nova, Zed)."""
