# want: terms/env.rego:7: opa.runtime is not allowed
# A term that reads the service's environment (its key): refused at load.
package mpass.terms.env

import rego.v1

findings contains opa.runtime().env.MPASS_AUDIT_KEY
