"""Writers: they lay out figures computed elsewhere; they never compute figures themselves."""
