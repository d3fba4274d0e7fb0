package billing

import (
	"fmt"
	"strings"
)

// MaxAmount bounds every amount the API accepts (minor units). It bounds one
// entry, not a sum: a customer's balance is bounded by MaxBalance.
const MaxAmount int64 = 1_000_000_000_000_000

// MaxBalance bounds a customer's balance in each currency, both ways (minor
// units): a ledger entry that would take a balance above MaxBalance or below
// -MaxBalance is refused. A balance within it plus or minus any amount stays
// far inside int64.
const MaxBalance int64 = 1_000_000_000_000_000_000

// Money is an exact amount in minor units (cents) of a currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// String formats m for people, e.g. "12.50 EUR" or "1200 JPY".
func (m Money) String() string {
	exp, ok := currencyExponents[m.Currency]
	if !ok || exp == 0 {
		return fmt.Sprintf("%d %s", m.Amount, m.Currency)
	}
	sign, a := "", m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	div := int64(1)
	for range exp {
		div *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, a/div, exp, a%div, m.Currency)
}

// ValidCurrency reports whether code is an active ISO 4217 currency we accept.
func ValidCurrency(code string) bool {
	_, ok := currencyExponents[code]
	return ok
}

// Currency checks an ISO 4217 code such as EUR.
func (v *Validator) Currency(field, code string) {
	v.Check(ValidCurrency(code), field, "must be an ISO 4217 currency code such as USD, EUR or GBP")
}

// Amount checks an amount in minor units: positive and at most MaxAmount.
func (v *Validator) Amount(field string, a int64) {
	v.Check(a > 0, field, "must be a positive whole number of minor units (cents)")
	v.Check(a <= MaxAmount, field, fmt.Sprintf("must be at most %d minor units", MaxAmount))
}

// currencyExponents maps ISO 4217 codes to the number of digits of their minor unit.
var currencyExponents = func() map[string]int {
	m := map[string]int{}
	add := func(exp int, codes string) {
		for _, c := range strings.Fields(codes) {
			m[c] = exp
		}
	}
	add(2, `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD
		CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD
		HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT
		MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR
		SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU
		UZS VES WST XCD YER ZAR ZMW ZWL`)
	add(0, `BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF`)
	add(3, `BHD IQD JOD KWD LYD OMR TND`)
	return m
}()
