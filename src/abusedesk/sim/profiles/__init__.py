"""Legitimate traffic: one module per kind of customer (OTP, marketing, notifications, email,
voice). Outliers are the same profiles with unusual but honest parameters."""
