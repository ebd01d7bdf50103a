"""Explaining a failing part: the known mistakes, the network's quantities, the evidence rule."""
