"""localcore: a faithful local stand-in for the slice of AWS that iotstream uses."""
