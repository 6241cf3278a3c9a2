window.YTD.account.part0 = [
  {
    "account" : {
      "email" : "marin@mail.example",
      "createdVia" : "web",
      "username" : "marin",
      "accountId" : "3001960000",
      "createdAt" : "2012-03-04T05:06:07.000Z",
      "accountDisplayName" : "Marin"
    }
  }
]
