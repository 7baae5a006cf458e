package sharpapi

// Version is this SDK's version, sent in the default User-Agent.
const Version = "0.1.0"
