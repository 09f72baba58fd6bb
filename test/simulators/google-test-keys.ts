/**
 * TEST-ONLY RSA keys for the Vertex AI simulator's OAuth token endpoint. Generated once for this repository's
 * tests (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`); they protect nothing. The simulator
 * trusts TEST_SERVICE_ACCOUNT's public key; ROGUE_SERVICE_ACCOUNT claims the same identity with another key, so
 * its assertions must be refused.
 */

export const TEST_SERVICE_ACCOUNT_EMAIL = "switchyard-test@switchyard-sim.iam.gserviceaccount.com";

export const TEST_SERVICE_ACCOUNT_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAppVM6pv5VIlSTTRzjaKV
+MK8ls4dMrf7m8BYOYAc3w/Ja5Rua6oEiBY9P0oSXMKbO3PXvMPbLEEEwfAhEnXZ
L3AwJmP5yzi3j2hGacnsucHG46j85j9gvW79GS7jGxD7JfY269ZRQyY8qak+JgIw
kDAqXm/h5ysVOWVOKyxdxGKefpH65XDfjJnTedEJSX49wCjUpDHhFP2HfSPtSUtN
X9fLCmG1DNlWx4FaG0KUUlPHfNYlUH3T2K/EOFGxPUj63WxUbzIoMRk2QwGQe+Zh
BeMLWJzHSiX4/TVKwRY5puu0xnRHRVeaQeoOpc9RE4lhaRjgub5nUfsLWvbOyQBw
8wIDAQAB
-----END PUBLIC KEY-----`;

const TEST_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCmlUzqm/lUiVJN
NHONopX4wryWzh0yt/ubwFg5gBzfD8lrlG5rqgSIFj0/ShJcwps7c9e8w9ssQQTB
8CESddkvcDAmY/nLOLePaEZpyey5wcbjqPzmP2C9bv0ZLuMbEPsl9jbr1lFDJjyp
qT4mAjCQMCpeb+HnKxU5ZU4rLF3EYp5+kfrlcN+MmdN50QlJfj3AKNSkMeEU/Yd9
I+1JS01f18sKYbUM2VbHgVobQpRSU8d81iVQfdPYr8Q4UbE9SPrdbFRvMigxGTZD
AZB75mEF4wtYnMdKJfj9NUrBFjmm67TGdEdFV5pB6g6lz1ETiWFpGOC5vmdR+wta
9s7JAHDzAgMBAAECggEAAmc+BFZ6uuL+SnnavuzdEAkzMlPH7Q7ldOJKA45bHEa8
h65NB4Wc6h+0A4E8kZUHK0zpDGKg+1r2yBuARqVnnD0YnL0tgeaQE2QUO/t7TFTE
20z5VRMOAL2kriPUh/PvQ6VxNmbRpk/baTE1YdP/Ql1HhzRDBJRFCp5xCcNqmOYz
YFRQKG4LnonFGsXtn+NBlraK77y+t7lbhaaNZ3SQTrCBitFyaXwjWWZhmu6PotD5
uLydQQaJW4Mq2A4H+yW47cNdt8zN0vXocVId8q8jF96XNfuf3tcVyCbstRRT3lAi
w/FwhE98rgVm6tLepqYCyR+gjoWpMd6xKQsMjJYLyQKBgQDTf1Biwx5/CmAJQljp
4/GmtDEte5S/tr+bHueohJwH6HXrOgRMHHekmDF0/7uPxKdyTmOKYlpHqu/NiYQW
UvDb2Cc22utyakUG6d/HTnuKxObEZyLstCOVIB5ZQiboNNRgNwTEo0i7FWpy+RWd
xEPZi8YA6M4zlKkkteE3/3tFCwKBgQDJops30H+UeKTV2Pdn37FIq9A3qqm7kno8
PS7Z8/C5JWTKM3bvHf2PpzHW8YPivfkU9Go22ROayUrmgz7Fgtw6xuqNfe7Q6oF+
wNDByRRBVg39abx/5GfBWH+g8dyDxKuu+LRLD3FLVrbb6w6W4BUVTFt9Wxm0VyPd
PXahT2IkuQKBgEV9dk8M5w88vHMuXoJyx6pLWEEmcqhPBkOUcu8WqyGaCmyAQnsz
e0gUTWOwxtKk/ZN8GA6W5CzaCDKTNVgUZlkFe1T1txh/vDBaVZFpwwPEUEJF1N7L
DUnpJK+VIa139jOqwCFPuQznK3OdTbHpk5V97E/OLjoaZTzPmbFJexojAoGAbD48
sVPeiWfSpXJaLospcue5WYjmoWla8Weu9RY9jkcCuoGyQV+KNUn+OXNh56EwTA2B
z3vtSFTzPpgKZKGBdJRAakDGqaSaa986si0uEH0P+ZB/vvBwupy1t0LfrGUx/TZK
I1lg6p7cf2bKaDhXWR2qp7r2K5f0CtrqCmLBPxECgYEAxD4wbRrzoVh7kcq76Jr4
Xfct08qTGM9quCQwnnZx310HCcEReF2pt2PV29B/ms7wKX5BdXD4Oq0IakFwqluK
VRwGYBa4oiNm7XSzgT590/BCl6F4rDFZ1IpvVE0uRhWwrGvQIJFBy00644RHD2IU
lpaglhZLF4bZgPf2e515J7Y=
-----END PRIVATE KEY-----`;

const ROGUE_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC/M0ke60VD6ncf
XPsHe4f0tFXBHOr4OMdeX2zhs5t0v1NjF+tiT8txUpPKnM4wllYvsibBb0sS+tVW
1NtRdoYU9MGXceIwIRfc08eNOolOaI8tIDCypHnFw7J+lwFBMEaWs3Q+dWA7YC/v
mXdptqWEVQ0/2xRcfCCQZMoFGyePR17ErDrtMmU6StE3ZCZj5SSOyT79sqLi5ngM
V0anasW7LBkT4wtdulggJfkqx/1GzXRFfS35aOuyV6aqEdlio6nsO07y6loXlFZa
Ilh7HRiQOUYOxIUw8kUCcashot4aTQmUtTU9hjh/L/aBMaHC0BVKfm3W1T6mKTZJ
KW+MbVapAgMBAAECggEAF8fx4PieUDOKHB/dJocaLTjThFtrwPKUSYv7kkRb94oR
0xIXOCPN8rW0pXoaDeJaV0BZ9avkCI5OQ/3hnCDueGN2Q2HqIiuw43SBLh2zv57d
qrKFnBKSWs4Ga3GuDu+e4qubWma6+2eb+WR7J8OMlAhdci3LkIftJ53W9V+f7Kqw
IjX54NEVe7MPKSoUC3nJZzrXbmZuYdQv0umm5bkzADQiZxYhLDaFeMQycmpkzc+h
CYuTlkfXJNok/uXOkH5+HnxaMgm1mOy7sWzBv/ISnjGEXhcXUZrUsyeX0XUXmA5M
u3aZQYeOmN76CztEZFgPNOtNPNjELrk3SrG/2FNaCQKBgQDgiPrWXhHKS1CW0FnU
q2iPz+4QhFirn3CbL1tL1BOtgwuHvumb2QzjPnwUl9wfnPXWfNtVlCPnWmwnZLqB
64lHanGXJrJefJrRbm5uALzTFWta28ySdfiUCP/xsCAacMX4Bqf01Es4h90JEn3o
qaNHKrf/q02u74qhVPttBpg7qwKBgQDZ/nKu0dMAlI2kMQZtxQiKPrZfvgetw/n3
hhG3+LXQIUp3Dycc04QYLDXyL1E6DZ2dSUW/oZucU4ZFLdhlG11YB0+h3TkFLLrF
ke47MKlYgNnbNyGRr2nNAoWVkNijDDqvg1pXSp2W6Q7foNOZ9LWEysD7Uw8ZDpMr
qcHEppqC+wKBgQC/wt0PZYmmDkqGcuy1X6rOX9O+0Xj1IhdGwdwj17zyjB+10Eut
KWMDVOMdp1B8w02F4F5mKT28oZIK1tEeki1NC9B1ObxOS/bg9IJlekXJtNpZ36xI
TW59523HWRch3byFhhG9W+3eGtKgo+VaZj6nUgmQ1hljVPs9q9mLFH3BPwKBgCf1
YTY0VfYcRN5c8i262TbmCe4A2k16x94cYDEV0NXm1EyApY2+I89+gyDylXQLvOFw
5e0bhXehQ9J4ddsKqhCRvoIQF/yf11iRyFZnNBN6AvUQ5QFcYwtmM/BXja5NdpBn
hm7LyZk4/TX2t/LXjVJbDAbFkdXo+wcc5dzTIS1zAoGBANfOPULouM8KDRID6/d4
hT3H8JgmHDtKeY/RHJJEWjqSNxPUiUJVn/FF1BT8ZX77bmm4aXx3QQl1YZMhZBTK
sZd0kQGpOsurB77HiPYJNPSoia7UOjoDHHlTAft9R0Ei0YE/pLjXUlP2t4ITki2x
NbaEFCjiOwBIP8unjlBVMWsz
-----END PRIVATE KEY-----`;

const serviceAccount = (privateKeyId: string, privateKey: string) => ({
  type: "service_account",
  project_id: "switchyard-sim",
  private_key_id: privateKeyId,
  private_key: privateKey,
  client_email: TEST_SERVICE_ACCOUNT_EMAIL,
  client_id: "100000000000000000001",
  auth_uri: "https://accounts.google.com/o/oauth2/auth",
  token_uri: "https://oauth2.googleapis.com/token",
});

/** The service account key file's contents, as a user would store it in a secret. */
export const TEST_SERVICE_ACCOUNT_JSON = JSON.stringify(serviceAccount("0f3c9e1d2b7a4c5e8f6a1b2c3d4e5f60718293a4", TEST_PRIVATE_KEY));
export const ROGUE_SERVICE_ACCOUNT_JSON = JSON.stringify(serviceAccount("9a8b7c6d5e4f30211223344556677889900aabbc", ROGUE_PRIVATE_KEY));

/** The Worker secrets tests bind: the trusted key file and the rogue one. */
export const TEST_GOOGLE_SECRETS = {
  VERTEX_SERVICE_ACCOUNT: TEST_SERVICE_ACCOUNT_JSON,
  VERTEX_ROGUE_SERVICE_ACCOUNT: ROGUE_SERVICE_ACCOUNT_JSON,
};
