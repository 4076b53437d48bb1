//! Runboard's browser app. A placeholder until the portal issue fills it: the server
//! serves `static/index.html` meanwhile.
