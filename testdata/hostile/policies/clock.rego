# want: terms/clock.rego:7: time.now_ns is not allowed
# A decision that depends on the clock: refused at load.
package mpass.terms.clock

import rego.v1

findings contains "late" if time.now_ns() > 0
