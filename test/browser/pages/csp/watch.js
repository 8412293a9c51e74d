// Loaded first: records every violation of the page's Content-Security-Policy.
window.violations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.violations.push(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline code'));
});
